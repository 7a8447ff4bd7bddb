import ArgumentParser

/// `--engine-set KEY=VALUE`: one of the serving engine's terms set for this run, as the same
/// line of its engine file would set it (``Lab/RunSetup/engine(_:setting:)``).
struct EngineTermOptions: ParsableArguments {
    @Option(name: .customLong("engine-set"),
            help: ArgumentHelp("Set one of the engine's terms for this run, as its file would (e.g. cpu_experts_below_tokens=0, split_sync_ns='sync + copy_call'); repeat for more. The result names the engine with what was set.",
                               valueName: "key=value"))
    var terms: [String] = []
}
