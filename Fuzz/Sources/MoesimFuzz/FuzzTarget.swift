import Foundation
import TraceStore

/// The fuzz targets: each feeds one kind of input through moesim as a user's file would
/// reach it, then exercises what a successful read leads to (decoding every chunk, a short
/// simulation), so that a number accepted at the edge is also shown not to trap later.
enum FuzzTarget: String, CaseIterable {
    /// The input is a whole trace file (SQLite bytes).
    case traceFile = "trace-file"
    /// The input edits a valid trace's `meta`, `layers`, `sequences`, `chunks` and `predictions` rows (``TraceEdits``).
    case traceMeta = "trace-meta"
    /// The input replaces one decompressed chunk payload (routing, weights or predictions) of a valid trace.
    case chunk
    /// The input is a TOML file, read as a hardware profile, policy, engine, sweep spec and reproduction.
    case toml
    /// The input is a text trace, imported as every text format moesim reads.
    case importText = "import"

    nonisolated(unsafe) static var current = FuzzTarget.traceFile

    /// Runs one input; every error moesim throws is an accepted outcome.
    func run(_ input: [UInt8]) {
        switch self {
        case .traceFile: TraceFuzzing.traceFile(input)
        case .traceMeta: TraceFuzzing.traceMeta(input)
        case .chunk: TraceFuzzing.chunk(input)
        case .toml: TOMLFuzzing.run(input)
        case .importText: ImportFuzzing.run(input)
        }
    }

    /// Writes seeds this target generates (the template trace and its rows and payloads);
    /// `make fuzz-corpus` adds the bundled files.
    func writeSeeds(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func write(_ name: String, _ bytes: [UInt8]) {
            _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(bytes))
        }
        switch self {
        case .traceFile:
            write("template.sqlite", Array(FileManager.default.contents(atPath: FuzzScratch.shared.template)!))
        case .traceMeta:
            write("template-rows", try TraceEdits.describe(FuzzScratch.shared.template))
        case .chunk:
            for (name, bytes) in try TraceFuzzing.templatePayloads() { write(name, bytes) }
        case .importText:
            for syntax in TraceExport.Syntax.allCases {
                let path = FuzzScratch.shared.folder + "/seed.\(syntax.rawValue)"
                try TraceExport.run(trace: TraceReader(path: FuzzScratch.shared.template), syntax: syntax, output: path)
                write("template.\(syntax.rawValue)", Array(FileManager.default.contents(atPath: path)!))
            }
        case .toml:
            break
        }
    }
}
