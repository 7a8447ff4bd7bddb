import TraceStore

/// One point of a results database as the report reads it: what it assumed and its metrics.
public struct ResultRow: Sendable, Equatable {
    /// Host-to-device GB/s of the run (the swept value, else nil: the profile's).
    public var busGBps: Double?
    /// Cache budget, bytes (0: none).
    public var cacheBytes: Int
    /// Eviction rule ("none" without a cache).
    public var eviction: String
    /// Policy and predictor names, hardware label, trace path and kind (real/synthetic).
    public var policy: String
    public var predictor: String
    public var hardware: String
    public var trace: String
    public var traceKind: String
    /// Metrics: TPOT in ms, shares and rates in [0, 1].
    public var tpotMs: Double
    public var stallShare: Double
    public var hitRate: Double
    public var fidelity: Double

    /// Every point of the results database at `path`, in point order.
    public static func read(from path: String) throws -> [ResultRow] {
        let database = try SQLiteDatabase(path: path, mode: .readOnly)
        let rows: SQLiteStatement
        do {
            rows = try database.prepare("""
                SELECT p_bus_gbps, cache_bytes, eviction, policy, predictor, hardware, trace_path, trace_kind,
                       tpot_ms, stall_share, hit_rate, fidelity
                FROM points ORDER BY point_index
                """)
        } catch let error as TraceStoreError {
            throw TraceStoreError(file: path, problem: "is not a moesim results database (\(error.problem))",
                                  fix: "Give a file written by `moesim sweep`.")
        }
        var result: [ResultRow] = []
        while try rows.step() {
            result.append(ResultRow(busGBps: rows.isNull(0) ? nil : rows.double(0), cacheBytes: rows.int(1), eviction: rows.text(2),
                                    policy: rows.text(3), predictor: rows.text(4), hardware: rows.text(5), trace: rows.text(6),
                                    traceKind: rows.text(7), tpotMs: rows.double(8), stallShare: rows.double(9),
                                    hitRate: rows.double(10), fidelity: rows.double(11)))
        }
        return result
    }
}
