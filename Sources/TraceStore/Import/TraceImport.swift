import Foundation

/// The source formats `moesim trace import --format` reads (traces/FORMAT.md, "Importers").
public enum ImportFormat: String, CaseIterable, Sendable {
    /// DeepSeek ESFT `expert_weights_<layer>.txt` folders.
    case esft
    /// llama.cpp-style route CSV with a `#` header (BigMoeOnEdge).
    case routeCSV = "route-csv"
    /// Llama-4 per-request JSON step lists.
    case llama4JSON = "llama4-json"
    /// Mixtral JSON Lines, one record per (token, layer).
    case mixtralJSONL = "mixtral-jsonl"
    /// moesim's generic long format, CSV.
    case csv
    /// moesim's generic long format, JSON Lines.
    case jsonl
}

/// What an import may be told beyond its inputs.
public struct ImportOptions: Sendable {
    /// A preset shape to attach, where the source carries none or to override its name.
    public var model: ModelPreset?
    /// Skip tokens with missing layers (counting them) instead of failing.
    public var lenient = false
    /// The phase to give tokens of sources that do not record one (mixtral-jsonl).
    public var phase: Phase?
    /// Experts per layer for the generic format when no model is given.
    public var experts: Int?
    /// Chunking and compression.
    public var writer = TraceWriter.Options()

    /// Default options.
    public init(model: ModelPreset? = nil, lenient: Bool = false, phase: Phase? = nil, experts: Int? = nil,
                writer: TraceWriter.Options = .init()) {
        self.model = model
        self.lenient = lenient
        self.phase = phase
        self.experts = experts
        self.writer = writer
    }
}

/// What an import did.
public struct ImportResult: Sendable {
    /// The metadata of the trace written.
    public var metadata: TraceMetadata
    /// Tokens skipped under `--lenient`, by reason.
    public var skipped: [String: Int]
    /// Tokens kept under `--lenient` with some layers absent.
    public var incompleteTokens = 0
}

/// One source format: first a look at the inputs that fixes the shape and provenance,
/// then the routing, streamed into a sink.
protocol RoutingImporter {
    /// Shape, weights and provenance of the trace to write (totals are left at zero).
    func prepare() throws -> TraceMetadata
    /// Streams every sequence's tokens into `sink`; `metadata` is what ``prepare()`` returned.
    func read(into sink: TraceSink, metadata: TraceMetadata) throws
}

/// `moesim trace import`: reads `inputs` in `format` and writes the trace at `output`
/// atomically — on any error nothing is left under `output`.
public enum TraceImport {
    /// Runs the import.
    @discardableResult
    public static func run(format: ImportFormat, inputs: [String], output: String, options: ImportOptions) throws -> ImportResult {
        guard !inputs.isEmpty else {
            throw TraceStoreError(file: output, problem: "no input files were given", fix: "Name the source files or folders after --format.")
        }
        for input in inputs where !FileManager.default.fileExists(atPath: input) {
            throw TraceStoreError(file: input, problem: "does not exist", fix: "Check the path (real traces are in ../shared/traces).")
        }
        let importer: any RoutingImporter
        switch format {
        case .esft: importer = ESFTImporter(inputs: inputs, options: options)
        case .routeCSV: importer = RouteCSVImporter(inputs: inputs, options: options)
        case .llama4JSON: importer = Llama4JSONImporter(inputs: inputs, options: options)
        case .mixtralJSONL: importer = MixtralJSONLImporter(inputs: inputs, options: options)
        case .csv: importer = LongFormatImporter(inputs: inputs, options: options, syntax: .csv)
        case .jsonl: importer = LongFormatImporter(inputs: inputs, options: options, syntax: .jsonl)
        }
        let metadata = try importer.prepare()
        // A shape taken from the data is refused naming the inputs, not the trace being written.
        try metadata.shape.validate(file: inputs.joined(separator: ", "))
        let writer = try TraceWriter(path: output, metadata: metadata, options: options.writer)
        let sink = TraceSink(writer: writer)
        do {
            try importer.read(into: sink, metadata: metadata)
            if sink.incompleteTokens > 0 {
                writer.addNote("--lenient kept \(sink.incompleteTokens) tokens that lack some layers, with \(sink.absentLayers) token-layers absent.")
            }
            if !sink.skipped.isEmpty {
                let counts = sink.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                writer.addNote("--lenient skipped tokens: \(counts).")
            }
            let final = try writer.finish()
            return ImportResult(metadata: final, skipped: sink.skipped, incompleteTokens: sink.incompleteTokens)
        } catch {
            writer.discard()
            throw error
        }
    }

    /// `options.model` when given, else the format's default preset `name`.
    static func preset(_ options: ImportOptions, default name: String) -> ModelPreset {
        options.model ?? ModelPreset.named(name)!
    }

    /// Lists `folder`'s entries sorted, or throws naming it.
    static func contents(of folder: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        } catch {
            throw TraceStoreError(file: folder, problem: "cannot be listed (\(error.localizedDescription))", fix: "Check the path and its permissions.")
        }
    }

    /// Whether `path` is a folder.
    static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
