import Foundation
import TraceStore

/// One submission of a Slurm sweep, as kept in its folder's `jobs.jsonl`: the job id and, for
/// a job array, which shards it runs. Later runs of the command ask Slurm about these ids to
/// see which shards are still queued or running.
public struct SlurmJobRecord: Sendable, Equatable, Codable {
    /// What the job does.
    public enum Kind: String, Sendable, Codable {
        /// A job array of shards.
        case array
        /// The merge job.
        case merge
    }

    /// What the job does.
    public var kind: Kind
    /// Slurm's job id.
    public var job: String
    /// The shards (array task indices) of an array job; empty for a merge.
    public var tasks: [Int]
    /// When it was submitted (UTC, ISO 8601).
    public var submitted: String

    /// A record of `job`.
    public init(kind: Kind, job: String, tasks: [Int] = [], submitted: String) {
        self.kind = kind
        self.job = job
        self.tasks = tasks
        self.submitted = submitted
    }

    /// Reads the records of `file` (none when it does not exist); a damaged line is an error
    /// that names it.
    public static func load(_ file: String) throws -> [SlurmJobRecord] {
        guard let data = FileManager.default.contents(atPath: file) else { return [] }
        return try String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).enumerated().map { number, line in
            do {
                return try JSONDecoder().decode(SlurmJobRecord.self, from: Data(line.utf8))
            } catch {
                throw TraceStoreError(file: file, place: "line \(number + 1)", problem: "is not a job record",
                                      fix: "Remove the line (the jobs it named are then no longer tracked), or remove the file once no job of this sweep is queued.")
            }
        }
    }

    /// Writes `records` to `file` in one atomic replacement.
    public static func save(_ records: [SlurmJobRecord], to file: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let lines = try records.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        try AtomicFile.write(lines.map { $0 + "\n" }.joined(), to: file)
    }
}
