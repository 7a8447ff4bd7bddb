import Foundation
import OffloadSim
import TraceStore

/// A sweep's results in SQLite: one row per point with its full configuration (as JSON and
/// one `p_…` column per parameter), its identity (point hash), the trace's identity (path,
/// content hash, real or synthetic), what it assumed (hardware, engine, policy, predictor), the
/// moesim version and every metric; per-layer rows in `layers`. Each point is written in
/// one transaction, so a sweep killed at any moment leaves only whole points.
///
/// A database belongs to one sweep spec (its hash is in `meta`) and one schema version;
/// opening it for another is refused rather than mixing results.
public final class ResultsDatabase {
    /// The layout version this build writes (2: the `engine` column and the `engine` and
    /// `context` parameters; 3: the `host_wait_share` and `gpu_busy_share` columns; 4: the
    /// `host_memory_gbps`, `host_expert_layers`, `prefill_chunk_tokens` and
    /// `cpu_experts_below_tokens` parameters; 5: the `engine_set` parameter).
    public static let schemaVersion = 5
    /// The metric columns of `points`, in order (`gpu_busy_share` is NULL for expert-parallel
    /// points, whose per-GPU figures are in `report`).
    public static let metricColumns = [
        "tpot_ms", "tpot_p50_ms", "tpot_p99_ms", "ttft_ms", "tokens_per_s", "stall_share", "decode_stall_share",
        "bus_busy_share", "hit_rate", "decode_hit_rate", "in_flight_rate", "fidelity", "makespan_ms",
        "host_wait_share", "gpu_busy_share",
    ]
    /// The byte and count columns of `points`.
    public static let countColumns = ["bytes_moved", "bytes_demand", "bytes_prefetch", "bytes_wasted", "decisions", "cache_bytes"]

    /// The file.
    public let path: String
    let database: SQLiteDatabase
    private let insertPoint: SQLiteStatement
    private let insertLayer: SQLiteStatement

    /// Opens `path` for the sweep `spec`, creating it when missing; refuses a file written for
    /// another spec or schema.
    public init(path: String, spec: SweepSpec) throws {
        self.path = path
        let existed = AtomicFile.exists(path)
        database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
        if existed {
            try Self.check(database, path: path, spec: spec)
        } else {
            try Self.create(database, spec: spec)
        }
        let parameters = SweepParameter.allCases.map { "p_\($0.rawValue)" }
        let columns = ["point_hash", "point_index", "config"] + parameters
            + ["trace_path", "trace_hash", "trace_kind", "hardware", "engine", "policy", "predictor", "eviction", "moesim_version"]
            + Self.metricColumns + Self.countColumns + ["report"]
        insertPoint = try database.prepare(
            "INSERT INTO points (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))")
        insertLayer = try database.prepare(
            "INSERT INTO layers (point_hash, layer, lookups, hits, hit_rate, stall_ns, compute_ns, demand_bytes, prefetch_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
    }

    private static func create(_ database: SQLiteDatabase, spec: SweepSpec) throws {
        let parameters = SweepParameter.allCases.map { parameter -> String in
            let type = switch parameter.kind {
            case .string: "TEXT"
            case .number: "REAL"
            case .integer, .bool: "INTEGER"
            }
            return "p_\(parameter.rawValue) \(type)"
        }
        try database.transaction {
            try database.execute("""
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE points (
                    point_hash TEXT PRIMARY KEY, point_index INTEGER NOT NULL, config TEXT NOT NULL,
                    \(parameters.joined(separator: ", ")),
                    trace_path TEXT, trace_hash TEXT, trace_kind TEXT, hardware TEXT, engine TEXT, policy TEXT, predictor TEXT, eviction TEXT,
                    moesim_version TEXT,
                    \(metricColumns.map { "\($0) REAL" }.joined(separator: ", ")),
                    \(countColumns.map { "\($0) INTEGER" }.joined(separator: ", ")),
                    report TEXT NOT NULL);
                CREATE TABLE layers (
                    point_hash TEXT NOT NULL REFERENCES points(point_hash), layer INTEGER NOT NULL, lookups INTEGER, hits INTEGER,
                    hit_rate REAL, stall_ns INTEGER, compute_ns INTEGER, demand_bytes INTEGER, prefetch_bytes INTEGER,
                    PRIMARY KEY (point_hash, layer));
                """)
            let meta = try database.prepare("INSERT INTO meta (key, value) VALUES (?, ?)")
            for (key, value) in [("format", "moesim-results"), ("schema_version", String(schemaVersion)), ("spec_hash", spec.hash),
                                 ("spec_name", spec.name), ("spec", spec.canonicalJSON), ("points_total", String(spec.count)),
                                 ("created_by", MoesimVersion.current)] {
                meta.reset()
                try meta.bind(1, key)
                try meta.bind(2, value)
                try meta.run()
            }
        }
    }

    /// The `meta` values of a results file.
    static func meta(_ database: SQLiteDatabase, path: String) throws -> [String: String] {
        var meta: [String: String] = [:]
        do {
            let rows = try database.prepare("SELECT key, value FROM meta")
            while try rows.step() { meta[rows.text(0)] = rows.text(1) }
        } catch let error as TraceStoreError where error.problem.contains("no such table") {
            throw TraceStoreError(file: path, problem: "is an SQLite file but not a moesim results database",
                                  fix: "Give a new path with -o, or one written by `moesim sweep`.")
        }
        guard meta["format"] == "moesim-results" else {
            throw TraceStoreError(file: path, problem: "is not a moesim results database", fix: "Give a new path with -o.")
        }
        return meta
    }

    private static func check(_ database: SQLiteDatabase, path: String, spec: SweepSpec) throws {
        let meta = try meta(database, path: path)
        guard meta["schema_version"] == String(schemaVersion) else {
            throw TraceStoreError(file: path, problem: "was written with results schema \(meta["schema_version"] ?? "?"); this moesim writes schema \(schemaVersion)",
                                  fix: "Write to a new file with -o (or rerun the sweep with the moesim that wrote it).")
        }
        guard meta["spec_hash"] == spec.hash else {
            throw TraceStoreError(file: path, problem: "holds results of another sweep spec ('\(meta["spec_name"] ?? "?")', hash \(meta["spec_hash"] ?? "?"); this spec's hash is \(spec.hash))",
                                  fix: "Rerun with the spec that wrote it to resume, or write this sweep to a new file with -o.")
        }
    }

    /// Hashes of the points already stored.
    public func storedPoints() throws -> Set<String> {
        let rows = try database.prepare("SELECT point_hash FROM points")
        var hashes = Set<String>()
        while try rows.step() { hashes.insert(rows.text(0)) }
        return hashes
    }

    /// Stores one point and its per-layer rows in one transaction.
    public func insert(_ point: SweepPoint, report: SimulationReport, traceHash: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let reportText = String(decoding: try encoder.encode(report), as: UTF8.self)
        let object = try JSONSerialization.jsonObject(with: Data(reportText.utf8)) as? [String: Any] ?? [:]
        let hash = point.hash
        try database.transaction {
            insertPoint.reset()
            var column: Int32 = 1
            func bind(_ value: Any?) throws {
                switch value {
                case let text as String: try insertPoint.bind(column, text)
                case let number as Int: try insertPoint.bind(column, number)
                case let number as Double: try insertPoint.bind(column, number)
                case let flag as Bool: try insertPoint.bind(column, flag ? 1 : 0)
                default: try insertPoint.bindNull(column)
                }
                column += 1
            }
            try bind(hash)
            try bind(point.index)
            try bind(point.configJSON)
            for parameter in SweepParameter.allCases {
                switch point.settings[parameter] {
                case .string(let text): try bind(text)
                case .number(let number): try bind(number)
                case .integer(let number): try bind(number)
                case .bool(let flag): try bind(flag)
                case nil: try bind(nil)
                }
            }
            let run = report.run
            for value in [run.trace, traceHash, run.traceKind, run.hardware, run.engine, run.policy, run.predictor, run.eviction, MoesimVersion.current] {
                try bind(value)
            }
            for key in Self.metricColumns { try bind((object[key] as? NSNumber)?.doubleValue) }
            for key in Self.countColumns.dropLast() { try bind((object[key] as? NSNumber)?.intValue) }
            try bind(run.cacheBytes)
            try bind(reportText)
            try insertPoint.run()
            for (layer, metrics) in report.metrics.layers.enumerated() {
                insertLayer.reset()
                try insertLayer.bind(1, hash)
                try insertLayer.bind(2, layer)
                try insertLayer.bind(3, metrics.lookups)
                try insertLayer.bind(4, metrics.hits)
                try insertLayer.bind(5, metrics.hitRate)
                try insertLayer.bind(6, Int(metrics.stallNs))
                try insertLayer.bind(7, Int(metrics.computeNs))
                try insertLayer.bind(8, metrics.demandBytes)
                try insertLayer.bind(9, metrics.prefetchBytes)
                try insertLayer.run()
            }
        }
    }
}
