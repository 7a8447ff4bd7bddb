import Foundation
import TraceStore

/// Joins results databases of one sweep spec (its shards, or interrupted copies) into one,
/// without duplicates: a point present in several inputs is kept once, and a point whose
/// results differ between inputs is refused (the simulator is deterministic, so that means
/// different moesim versions or damaged files). The output appears only when complete.
public enum ResultsMerge {
    /// Attaches `input` as `alias` and copies its points and layers in, refusing conflicting
    /// results; returns how many of its points were already there. Its statements end here,
    /// so that the database can be detached afterwards.
    private static func absorb(_ input: String, as alias: String, into database: SQLiteDatabase) throws -> Int {
        let attach = try database.prepare("ATTACH DATABASE ? AS \(alias)")
        try attach.bind(1, input)
        try attach.run()
        let conflicts = try database.prepare(
            "SELECT s.point_hash FROM \(alias).points s JOIN points p USING (point_hash) WHERE s.report != p.report LIMIT 1")
        if try conflicts.step() {
            throw TraceStoreError(file: input, place: "point \(conflicts.text(0))",
                                  problem: "has results that differ from another input's for the same configuration",
                                  fix: "Merge results of one moesim version; rerun the point if a file is damaged.")
        }
        let shared = try database.prepare("SELECT count(*) FROM \(alias).points s JOIN points p USING (point_hash)")
        _ = try shared.step()
        let duplicates = shared.int(0)
        try database.transaction {
            try database.execute("""
                INSERT OR IGNORE INTO points SELECT * FROM \(alias).points;
                INSERT OR IGNORE INTO layers SELECT * FROM \(alias).layers;
                """)
        }
        return duplicates
    }

    /// Merges `inputs` into `output`; returns the points written and the duplicates dropped.
    @discardableResult
    public static func merge(_ inputs: [String], into output: String) throws -> (points: Int, duplicates: Int) {
        guard let first = inputs.first else {
            throw TraceStoreError(file: "merge", problem: "has no inputs", fix: "Give the results files to merge.")
        }
        var specHash: String?
        for input in inputs {
            guard AtomicFile.exists(input) else {
                throw TraceStoreError(file: input, problem: "does not exist", fix: "Check the path.")
            }
            let meta = try ResultsDatabase.meta(SQLiteDatabase(path: input, mode: .readOnly), path: input)
            guard meta["schema_version"] == String(ResultsDatabase.schemaVersion) else {
                throw TraceStoreError(file: input, problem: "uses results schema \(meta["schema_version"] ?? "?"), not \(ResultsDatabase.schemaVersion)",
                                      fix: "Merge files written by the same moesim version.")
            }
            if let specHash, meta["spec_hash"] != specHash {
                throw TraceStoreError(file: input, problem: "holds another sweep spec (hash \(meta["spec_hash"] ?? "?"), not \(specHash) like \(first))",
                                      fix: "Merge only shards of one spec.")
            }
            specHash = meta["spec_hash"]
        }
        let partial = AtomicFile.temporaryPath(for: output)
        AtomicFile.remove(partial)
        do {
            try FileManager.default.copyItem(atPath: first, toPath: partial)
            let database = try SQLiteDatabase(path: partial, mode: .readWriteCreate)
            var duplicates = 0
            for (number, input) in inputs.dropFirst().enumerated() {
                let alias = "input\(number)"
                duplicates += try absorb(input, as: alias, into: database)
                try database.execute("DETACH DATABASE \(alias)")
            }
            let count = try database.prepare("SELECT count(*) FROM points")
            _ = try count.step()
            let points = count.int(0)
            try AtomicFile.commit(partial, to: output)
            return (points, duplicates)
        } catch {
            AtomicFile.remove(partial)
            throw error
        }
    }
}
