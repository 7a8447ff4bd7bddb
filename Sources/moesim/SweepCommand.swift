import ArgumentParser

/// `moesim sweep`: runs a sweep (the default subcommand) or reports where one stands.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a grid of simulations from a spec file into a results database (resumable, shardable, or as a Slurm job array).",
        discussion: "`moesim sweep SPEC -o RESULTS` runs it (the `run` subcommand); `moesim sweep status RESULTS` says where it stands.",
        subcommands: [SweepRunCommand.self, SweepStatusCommand.self],
        defaultSubcommand: SweepRunCommand.self)
}
