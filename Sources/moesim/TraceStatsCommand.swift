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

    @Option(parsing: .unconditional, help: "Tokens to generate.")
    var tokens: Int

    @Option(help: "Reference trace whose statistics to match.")
    var like: String?

    @Option(parsing: .unconditional, help: "Random seed; the same inputs and seed give the same file.")
    var seed: UInt64 = 1

    @Option(parsing: .unconditional, help: "Prompt tokens per sequence (overrides the reference's mix).")
    var prefill: Int?

    @Option(parsing: .unconditional, help: "Generated tokens per sequence (overrides the reference's mix).")
    var decode: Int?

    @Option(name: [.short, .customLong("output")], help: "The trace file to write.")
    var output: String

    @OptionGroup var compression: CompressionLevelOption

    func validate() throws {
        try OptionRange.check(tokens, 1...(1 << 31), "--tokens")
        if let prefill { try OptionRange.check(prefill, ValidRange.context, "--prefill") }
        if let decode { try OptionRange.check(decode, ValidRange.context, "--decode") }
    }

    func run() throws {
        if let like { try AtomicFile.refuseOverwriting(inputs: [like], output: output) }
        var request = TraceSynthesis.Request(model: try modelPreset(model), tokens: tokens, seed: seed, like: like, prefill: prefill, decode: decode)
        request.writer.compressionLevel = compression.level ?? CompressionLevelOption.synthDefault
        let meta = try TraceSynthesis.run(request, output: output)
        print("wrote \(output): SYNTHETIC trace, \(meta.shape.name), \(meta.tokens) tokens in \(meta.sequences) sequences (\(meta.decisions) decisions)")
    }
}
