import TraceStore

/// What a results database holds, read without opening it for writing.
public struct ResultsSummary: Sendable, Equatable {
    /// The sweep spec's hash.
    public var specHash: String
    /// The sweep's name.
    public var specName: String
    /// The spec as canonical JSON.
    public var spec: String
    /// Points in the whole sweep.
    public var pointsTotal: Int
    /// Points stored in this file.
    public var stored: Int
}

extension ResultsDatabase {
    /// Reads the summary of the results file at `path`; refuses a file that is not one, or one
    /// of another schema.
    public static func summary(of path: String) throws -> ResultsSummary {
        guard AtomicFile.exists(path) else {
            throw TraceStoreError(file: path, problem: "does not exist", fix: "Give the results database a sweep writes with -o.")
        }
        let database = try SQLiteDatabase(path: path, mode: .readOnly)
        let meta = try meta(database, path: path)
        guard meta["schema_version"] == String(schemaVersion) else {
            throw TraceStoreError(file: path, problem: "uses results schema \(meta["schema_version"] ?? "?"), not \(schemaVersion)",
                                  fix: "Read it with the moesim version that wrote it.")
        }
        let count = try database.prepare("SELECT count(*) FROM points")
        _ = try count.step()
        return ResultsSummary(specHash: meta["spec_hash"] ?? "", specName: meta["spec_name"] ?? "", spec: meta["spec"] ?? "",
                              pointsTotal: Int(meta["points_total"] ?? "") ?? 0, stored: count.int(0))
    }
}
