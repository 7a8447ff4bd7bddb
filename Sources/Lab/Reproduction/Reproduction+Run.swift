import Foundation
import OffloadSim
import TraceStore

/// A reproduction's outcome: each published figure beside its simulated counterpart, and the
/// runs behind them (each saying which trace, hardware, engine and predictor it assumed).
public struct ReproductionResult: Sendable, Encodable {
    /// One published figure, simulated.
    public struct Row: Sendable, Encodable, Equatable {
        public var figure: String
        public var unit: String
        public var published: Double
        public var publishedLow: Double?
        public var publishedHigh: Double?
        public var simulated: Double
        /// (simulated − published) / published, in percent.
        public var differencePct: Double
        public var source: String
        /// The run (and, for a reduction, the baseline run) it comes from.
        public var run: String

        enum CodingKeys: String, CodingKey {
            case figure, unit, published, publishedLow = "published_low", publishedHigh = "published_high", simulated
            case differencePct = "difference_pct", source, run
        }
    }

    /// The reproduction's id.
    public var id: String
    /// The trace the runs replayed, in words (a synthesised one is deleted afterwards).
    public var trace: String
    /// The rows, in the file's order.
    public var rows: [Row]
    /// Each run's report, in the file's order.
    public var runs: [NamedReport]

    /// A run's name and report.
    public struct NamedReport: Sendable, Encodable {
        public var name: String
        public var report: SimulationReport
    }
}

extension Reproduction {
    /// Runs every run of the reproduction on its trace (synthesised into a temporary folder
    /// when it is a recipe), or on `traceOverride`, and computes the rows.
    public func run(trace traceOverride: String? = nil) throws -> ReproductionResult {
        var temporary: String?
        defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
        let path: String
        var described: String
        if let traceOverride {
            path = traceOverride
            described = traceOverride
        } else {
            switch trace {
            case .file(let file):
                path = file
                described = file
            case .synthesis(let model, let tokens, let prefill, let decode, let seed):
                described = "synthesised: `moesim trace synth --model \(model) --tokens \(tokens) --prefill \(prefill) --decode \(decode) --seed \(seed)`"
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moesim-reproduce-\(ProcessInfo.processInfo.processIdentifier)-\(id)").path
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                temporary = folder
                path = folder + "/\(model)-synthetic.sqlite"
                let request = TraceSynthesis.Request(model: try ModelPreset.require(model, file: "reproduction \(id): trace.synthesize"),
                                                     tokens: tokens, seed: seed, prefill: prefill, decode: decode)
                try TraceSynthesis.run(request, output: path)
            }
        }
        let runner = PointRunner()
        var values: [String: [String: Any]] = [:]
        var reports: [ReproductionResult.NamedReport] = []
        for (index, run) in runs.enumerated() {
            var settings = run.settings
            settings[.trace] = .string(path)
            var report = try runner.run(SweepPoint(index: index, settings: settings))
            // A synthesised trace lives in a folder named after this process and is removed at
            // the end: the report names the recipe instead, so that a rerun prints the same bytes.
            if temporary != nil { report.run.trace = described }
            reports.append(.init(name: run.name, report: report))
            let encoder = JSONEncoder()
            let object = try JSONSerialization.jsonObject(with: try encoder.encode(report)) as? [String: Any] ?? [:]
            values[run.name] = object
        }
        func metric(_ run: String, _ key: String) throws -> Double {
            guard let value = (values[run]?[key] as? NSNumber)?.doubleValue else {
                throw TraceStoreError(file: "reproduction \(id)", place: "run \(run)", problem: "has no numeric figure '\(key)'",
                                      fix: "Name a `moesim simulate --json` key such as tpot_ms, stall_share or bus_busy_share.")
            }
            return value
        }
        let rows = try rows.map { row -> ReproductionResult.Row in
            var simulated = try metric(row.run, row.metric)
            var runs = row.run
            switch row.comparison {
            case .reduction(let baseline)?:
                let before = try metric(baseline, row.metric)
                simulated = (before - simulated) / before * 100
            case .speedup(let baseline)?:
                simulated = try metric(baseline, row.metric) / simulated
            case nil:
                simulated *= row.scale
            }
            if let baseline = row.comparison?.baseline { runs = "\(row.run) against \(baseline)" }
            return .init(figure: row.figure, unit: row.unit, published: row.published, publishedLow: row.publishedRange?.lowerBound,
                         publishedHigh: row.publishedRange?.upperBound, simulated: simulated,
                         differencePct: (simulated - row.published) / row.published * 100, source: row.source, run: runs)
        }
        if let first = reports.first?.report.run { described += "  [\(first.traceKind.uppercased())]" }
        return ReproductionResult(id: id, trace: described, rows: rows, runs: reports)
    }
}

extension ReproductionResult {
    /// The rows as a table: figure, published (with its band), simulated, difference.
    public var table: String {
        // Wide enough for the longest figure, and never narrower than the tables printed before.
        let width = max(44, (rows.map(\.figure.count).max() ?? 0) + 2)
        var lines = ["figure".rightPadded(width) + "unit".rightPadded(6) + "published".leftPadded(12) + "simulated".leftPadded(11) + "difference".leftPadded(12)]
        for row in rows {
            let published = row.publishedLow.map { low in "\(Format.fixed(low, 1))–\(Format.fixed(row.publishedHigh!, 1))" } ?? Format.fixed(row.published, 1)
            let points = row.unit == "%" ? " (\(row.simulated - row.published >= 0 ? "+" : "")\(Format.fixed(row.simulated - row.published, 1)) pt)" : ""
            lines.append(row.figure.rightPadded(width) + row.unit.rightPadded(6) + published.leftPadded(12) + Format.fixed(row.simulated, 2).leftPadded(11)
                         + ((row.differencePct >= 0 ? "+" : "") + Format.fixed(row.differencePct, 1) + "%").leftPadded(12) + points)
        }
        return lines.joined(separator: "\n")
    }
}
