import ArgumentParser
import TraceStore

/// `moesim trace …`: import, inspect, export and synthesise router traces.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Import, inspect, export and synthesise router traces (SQLite + zstd, traces/FORMAT.md).",
        subcommands: [TraceImportCommand.self, TraceInfoCommand.self, TraceStatsCommand.self, TraceExportCommand.self, TraceSynthCommand.self]
    )
}

extension ImportFormat: ExpressibleByArgument {}
extension TraceExport.Syntax: ExpressibleByArgument {}

/// Parses `--model` into a preset, listing the valid names when it is unknown.
func modelPreset(_ name: String?) throws -> ModelPreset? {
    try name.map { try ModelPreset.require($0) }
}

struct TraceImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert a recorded trace into moesim's format.",
        discussion: """
            Formats: esft (task folders of expert_weights_<layer>.txt), route-csv (llama.cpp route CSV), \
            llama4-json (per-request step lists, files or a folder), mixtral-jsonl, csv and jsonl (moesim's \
            generic long format). The output appears only when complete.
            """
    )

    @Option(name: .long, help: "Source format: \(ImportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: ImportFormat

    @Argument(help: "Input files or folders.")
    var inputs: [String] = []

    @Option(name: [.short, .customLong("output")], help: "The trace file to write.")
    var output: String

    @Option(help: "Model preset whose shape to attach (see `moesim models`).")
    var model: String?

    @Flag(help: "Skip tokens that lack some layers, and report how many.")
    var lenient = false

    @Option(help: "Phase for sources that do not record one (prefill or decode).")
    var phase: String?

    @Option(parsing: .unconditional, help: "Experts per layer, for the generic format without --model.")
    var experts: Int?

    @Option(parsing: .unconditional, help: "Tokens per chunk.")
    var chunkTokens = 4096

    @OptionGroup var compression: CompressionLevelOption

    func validate() throws {
        try OptionRange.check(chunkTokens, ValidRange.chunkTokens, "--chunk-tokens")
        if let phase, Phase(text: Substring(phase)) == nil { throw ValidationError("--phase must be prefill or decode.") }
        if let experts, experts < 1 || experts > 65_535 { throw ValidationError("--experts must be in 1…65535.") }
    }

    func run() throws {
        try AtomicFile.refuseOverwriting(inputs: inputs, output: output)
        let options = ImportOptions(
            model: try modelPreset(model), lenient: lenient, phase: phase.flatMap { Phase(text: Substring($0)) }, experts: experts,
            writer: TraceWriter.Options(chunkTokens: chunkTokens, compressionLevel: compression.level ?? CompressionLevelOption.importDefault))
        let result = try TraceImport.run(format: format, inputs: inputs, output: output, options: options)
        let meta = result.metadata
        print("wrote \(output): \(meta.provenanceLabel) trace, \(meta.shape.name), \(meta.tokens) tokens in \(meta.sequences) sequences (\(meta.decisions) decisions)")
        if result.incompleteTokens > 0 {
            print("kept \(result.incompleteTokens) tokens that lack some layers, those layers absent (--lenient; \(result.metadata.absentDecisions) routed decisions absent)")
        }
        for (reason, count) in result.skipped.sorted(by: { $0.key < $1.key }) {
            print("skipped \(count) tokens \(reason) (--lenient)")
        }
    }
}

struct TraceInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Shape, size, provenance and storage cost of a trace.")

    @Argument(help: "The trace file.")
    var trace: String

    @Flag(help: "Print JSON with stable keys.")
    var json = false

    @Flag(help: "Decode every chunk and check it against its content checksum (format version 3) and the metadata.")
    var verify = false

    func run() throws {
        let info = try TraceInfo(trace: TraceReader(path: trace), verify: verify)
        print(json ? try JSONOutput.encode(info) : info.text)
    }
}

struct TraceExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write a trace in the generic long format (CSV or JSON Lines).")

    @Argument(help: "The trace file.")
    var trace: String

    @Option(help: "csv or jsonl.")
    var format: TraceExport.Syntax

    @Option(name: [.short, .customLong("output")], help: "The file to write.")
    var output: String

    func run() throws {
        try AtomicFile.refuseOverwriting(inputs: [trace], output: output)
        let reader = try TraceReader(path: trace)
        let rows = try TraceExport.run(trace: reader, syntax: format, output: output)
        print("wrote \(output): \(rows) rows from the \(reader.metadata.provenanceLabel) trace \(trace)")
    }
}
