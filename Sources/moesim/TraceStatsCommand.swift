import ArgumentParser
import TraceStore

struct TraceStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Per-layer popularity, reuse, cross-layer affinity and working set.")

    @Argument(help: "The trace file.")
    var trace: String

    @Flag(help: "Print JSON with stable keys.")
    var json = false

    func run() throws {
        let statistics = try TraceStatistics(trace: TraceReader(path: trace))
        print(json ? try JSONOutput.encode(statistics) : statistics.text)
    }
}

struct TraceSynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate a synthetic trace, fitted to a real one with --like.",
        discussion: "The trace is labelled synthetic in its metadata and in every output that shows it.")

    @Option(help: "Model preset whose shape to use (see `moesim models`); defaults to the reference's shape.")
    var model: String?

    @Option(help: "Tokens to generate.")
    var tokens: Int

    @Option(help: "Reference trace whose statistics to match.")
    var like: String?

    @Option(help: "Random seed; the same inputs and seed give the same file.")
    var seed: UInt64 = 1

    @Option(help: "Prompt tokens per sequence (overrides the reference's mix).")
    var prefill: Int?

    @Option(help: "Generated tokens per sequence (overrides the reference's mix).")
    var decode: Int?

    @Option(name: [.short, .customLong("output")], help: "The trace file to write.")
    var output: String

    func validate() throws {
        guard tokens >= 1 else { throw ValidationError("--tokens must be at least 1.") }
        if let prefill, prefill < 0 { throw ValidationError("--prefill must not be negative.") }
        if let decode, decode < 0 { throw ValidationError("--decode must not be negative.") }
    }

    func run() throws {
        let request = TraceSynthesis.Request(model: try modelPreset(model), tokens: tokens, seed: seed, like: like, prefill: prefill, decode: decode)
        let meta = try TraceSynthesis.run(request, output: output)
        print("wrote \(output): SYNTHETIC trace, \(meta.shape.name), \(meta.tokens) tokens in \(meta.sequences) sequences (\(meta.decisions) decisions)")
    }
}
