import Foundation
import TOML
import TraceStore

/// A published table to reproduce (DESIGN.md §6): the paper, its setup, the runs that stand
/// for its configurations (settings as sweep parameters), and per published figure how the
/// simulated figure is computed from those runs. Read from `reproductions/ID.toml`:
///
///     id = "2603.19289"
///     [trace]                      # a synthesis recipe, or path = "..."
///     synthesize = "qwen3-30b-a3b"
///     [base]                       # settings every run shares
///     engine = "yalis"
///     [runs.on-demand-1k]
///     policy = "on-demand"
///     context = 1024
///     [rows.on-demand-1k]
///     figure = "on-demand TPOT, 1k context"
///     unit = "ms"
///     published = 158.9
///     source = "Table 2"
///     run = "on-demand-1k"
///     metric = "tpot_ms"
///
/// A row's simulated figure is `metric` of `run` (a `simulate --json` key) times `scale`; with
/// `reduction_from`, it is the percentage by which `run` lowers the metric of that other run;
/// with `speedup_from`, the other run's metric divided by `run`'s (a speed-up, ×).
public struct Reproduction: Sendable {
    /// Where the trace comes from.
    public enum TraceRecipe: Sendable, Equatable {
        /// A trace file (relative paths from the reproduction's folder).
        case file(String)
        /// A synthetic trace of a model preset (`moesim trace synth --model … --tokens … --prefill … --decode … --seed …`).
        case synthesis(model: String, tokens: Int, prefill: Int, decode: Int, seed: UInt64)
    }

    /// One published figure and how its simulated counterpart is computed.
    public struct Row: Sendable, Equatable {
        /// What it is ("on-demand TPOT, 1k context").
        public var figure: String
        /// Its unit ("ms", "%").
        public var unit: String
        /// The published value (a band's midpoint when the paper gives a band).
        public var published: Double
        /// The published band, when the paper gives one.
        public var publishedRange: ClosedRange<Double>?
        /// Where in the paper.
        public var source: String
        /// The run it is read from.
        public var run: String
        /// The `simulate --json` key.
        public var metric: String
        /// Factor applied to the metric (100 for a share as a percentage).
        public var scale: Double
        /// How the figure compares `run` with another run, if it does.
        public var comparison: Comparison?
    }

    /// A figure computed from two runs' metrics.
    public enum Comparison: Sendable, Equatable {
        /// The percentage by which `run` lowers the metric of the named run (`reduction_from`).
        case reduction(from: String)
        /// The named run's metric divided by `run`'s, a speed-up in × (`speedup_from`).
        case speedup(from: String)

        /// The other run.
        public var baseline: String {
            switch self {
            case .reduction(let run), .speedup(let run): return run
            }
        }
    }

    /// The paper's arXiv id, as `moesim reproduce ID` takes it.
    public var id: String
    /// The paper's title.
    public var title: String
    /// Authors and venue.
    public var paper: String
    /// The published setup, in words.
    public var setup: String
    /// What the model leaves out or assumes, in words (printed with the table).
    public var notes: [String]
    /// The trace.
    public var trace: TraceRecipe
    /// Settings every run shares.
    public var base: [SweepParameter: SweepValue]
    /// Runs by name, in file order, each with its full settings (base included).
    public var runs: [(name: String, settings: [SweepParameter: SweepValue])]
    /// Rows in file order.
    public var rows: [Row]
    /// The folder of the file (relative paths in it are resolved from there).
    public var folder: String

    /// Reads a reproduction file; errors give the line and what is valid.
    public init(toml text: String, file: String) throws {
        func fail(_ line: Int, _ problem: String) -> TOMLFileError { TOMLFileError(file: file, line: line, problem: problem) }
        let parameters = SweepParameter.allCases.map(\.rawValue)
        let rowKeys = ["figure", "unit", "published", "published_low", "published_high", "source", "run", "metric", "scale", "reduction_from", "speedup_from"]
        let doc = try TOMLDocument(parsing: text, file: file, allowed: [
            "id", "title", "paper", "setup", "notes", "trace.path", "trace.synthesize", "trace.tokens", "trace.prefill", "trace.decode",
            "trace.seed", "base.*", "runs.*", "rows.*",
        ])
        func read<T>(_ key: String, _ reader: (String) throws -> T?) throws -> T? { try doc.read(key, file: file, reader) }
        func required<T>(_ key: String, _ reader: (String) throws -> T?) throws -> T {
            guard let value = try read(key, reader) else { throw fail(0, "is missing '\(key)'") }
            return value
        }
        guard let id = try read("id", doc.string) else { throw fail(0, "has no 'id'") }
        self.id = id
        title = try read("title", doc.string) ?? ""
        paper = try read("paper", doc.string) ?? ""
        setup = try read("setup", doc.string) ?? ""
        notes = []
        if let entry = doc["notes"] {
            guard case .array(let items) = entry.value else { throw fail(entry.line, "'notes' must be an array of strings") }
            notes = try items.map { item in
                guard case .string(let text) = item else { throw fail(entry.line, "'notes' must be an array of strings") }
                return text
            }
        }
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        self.folder = folder
        if let path = try read("trace.path", doc.string) {
            trace = .file(path.hasPrefix("/") ? path : folder + "/" + path)
        } else if let model = try read("trace.synthesize", doc.string) {
            func count(_ key: String, _ range: ClosedRange<Int>) throws -> Int {
                try required(key) { try doc.integer($0, in: range) }
            }
            trace = .synthesis(model: model, tokens: try count("trace.tokens", 1...(1 << 31)), prefill: try count("trace.prefill", ValidRange.context),
                               decode: try count("trace.decode", ValidRange.context),
                               seed: UInt64(try read("trace.seed") { try doc.integer($0, in: 0...Int.max) } ?? 1))
        } else {
            throw fail(0, "names no trace: give trace.path or trace.synthesize with tokens, prefill, decode and seed")
        }
        func settings(under prefix: String) throws -> [SweepParameter: SweepValue] {
            var result: [SweepParameter: SweepValue] = [:]
            for key in doc.keys(under: prefix) {
                let name = String(key.dropFirst(prefix.count + 1))
                guard let parameter = SweepParameter(rawValue: name) else {
                    throw fail(doc.line(of: key), "unknown setting '\(name)'; valid: \(parameters.joined(separator: ", "))")
                }
                let entry = doc[key]!
                var value: SweepValue
                switch (parameter.kind, entry.value) {
                case (.string, .string(let text)): value = .string(text)
                case (.number, .integer(let number)): value = .number(Double(number))
                case (.number, .float(let number)) where number.isFinite: value = .number(number)
                case (.integer, .integer(let number)): value = .integer(number)
                case (.bool, .bool(let flag)): value = .bool(flag)
                default: throw fail(entry.line, "'\(key)' must be \(parameter.kind) (\(parameter.summary)), not \(entry.value)")
                }
                if let problem = parameter.problem(with: value) { throw fail(entry.line, "'\(key)' \(problem) (\(parameter.summary))") }
                // Files named in a reproduction live beside it.
                if [.policy, .hardware, .engine].contains(parameter), case .string(let text) = value, text.hasSuffix(".toml"), !text.hasPrefix("/") {
                    value = .string(folder + "/" + text)
                }
                result[parameter] = value
            }
            return result
        }
        let base = try settings(under: "base")
        self.base = base
        func names(under prefix: String) -> [String] {
            let keys = doc.keys(under: prefix)
            var seen: [String: Int] = [:]
            for key in keys {
                let name = String(key.dropFirst(prefix.count + 1).split(separator: ".")[0])
                seen[name] = min(seen[name] ?? Int.max, doc.line(of: key))
            }
            return seen.keys.sorted { seen[$0]! < seen[$1]! }
        }
        let runs = try names(under: "runs").map { name in
            (name: name, settings: base.merging(try settings(under: "runs.\(name)")) { $1 })
        }
        self.runs = runs
        let runNames = Set(runs.map(\.name))
        let rows = try names(under: "rows").map { name in
            let prefix = "rows.\(name)."
            for key in doc.keys(under: "rows.\(name)") where !rowKeys.contains(String(key.dropFirst(prefix.count))) {
                throw fail(doc.line(of: key), "unknown key '\(key)'; a row takes \(rowKeys.joined(separator: ", "))")
            }
            let run = try required(prefix + "run", doc.string)
            let reduction = try read(prefix + "reduction_from", doc.string)
            let speedup = try read(prefix + "speedup_from", doc.string)
            if reduction != nil && speedup != nil {
                throw fail(doc.line(of: prefix + "speedup_from"), "row '\(name)' gives both reduction_from and speedup_from; a row is one or the other")
            }
            let comparison = reduction.map { Comparison.reduction(from: $0) } ?? speedup.map { Comparison.speedup(from: $0) }
            for named in [run] + (comparison.map { [$0.baseline] } ?? []) where !runNames.contains(named) {
                throw fail(doc.line(of: prefix + "run"), "row '\(name)' names run '\(named)', which is not among [runs.*]: \(runs.map(\.name).joined(separator: ", "))")
            }
            let low = try read(prefix + "published_low", doc.number), high = try read(prefix + "published_high", doc.number)
            if let low, let high, !(low <= high) { throw fail(doc.line(of: prefix + "published_low"), "published_low must not exceed published_high") }
            return Row(figure: try required(prefix + "figure", doc.string), unit: try read(prefix + "unit", doc.string) ?? "",
                       published: try required(prefix + "published", doc.number),
                       publishedRange: low.flatMap { low in high.map { low...$0 } },
                       source: try read(prefix + "source", doc.string) ?? "", run: run, metric: try required(prefix + "metric", doc.string),
                       scale: try read(prefix + "scale", doc.number) ?? 1, comparison: comparison)
        }
        guard !rows.isEmpty else { throw fail(0, "has no [rows.*]") }
        self.rows = rows
    }

    /// Reads the reproduction file at `path`.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TraceStoreError(file: path, problem: "cannot be read", fix: "Check the path; `moesim reproduce` lists the reproductions.")
        }
        do {
            try self.init(toml: String(decoding: data, as: UTF8.self), file: path)
        } catch let error as TOMLFileError {
            throw TraceStoreError(file: path, place: error.line > 0 ? "line \(error.line)" : "", problem: error.problem,
                                  fix: "Fix the file (see reproductions/README.md).")
        }
    }
}
