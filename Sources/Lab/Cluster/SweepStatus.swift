import Foundation
import TraceStore

/// Where a sweep stands: points stored in its results database and, for a sweep run through
/// Slurm, per shard the points stored, expected, the rate its log last reported and the Slurm
/// state of its latest task (from `squeue`, and `sacct` for finished tasks when accounting is on).
public struct SweepStatus: Sendable {
    /// One shard of a Slurm sweep.
    public struct Shard: Sendable {
        /// The shard (array task) index.
        public var index: Int
        /// Points the shard holds when complete.
        public var expected: Int
        /// Points stored in its database.
        public var done: Int
        /// Its latest task as Slurm reports it (nil: never submitted through moesim, or Slurm has forgotten it).
        public var state: SlurmJobState?
        /// The last progress its log reports.
        public var log: SweepLogProgress?

        /// Whether every point of the shard is stored.
        public var isComplete: Bool { done >= expected }
        /// Whether its task is queued or running.
        public var isActive: Bool { state?.isActive ?? false }
        /// Points per second while its task runs (nil when not running or not yet reported).
        public var rate: Double? {
            guard state?.state == "RUNNING", let log, !log.finished, log.rate > 0 else { return nil }
            return log.rate
        }
        /// Seconds left at its rate.
        public var eta: Double? { rate.map { Double(expected - done) / $0 } }
    }

    /// The results database.
    public var output: String
    /// The sweep's name.
    public var specName: String
    /// The sweep spec's hash.
    public var specHash: String
    /// Points in the sweep.
    public var points: Int
    /// Points in the results database (nil: it does not exist yet).
    public var merged: Int?
    /// The Slurm plan (nil: a sweep run without --slurm).
    public var plan: SlurmSweepPlan?
    /// The shards of a Slurm sweep.
    public var shards: [Shard]
    /// The latest merge job.
    public var merge: SlurmJobState?
    /// The latest merge job's id (nil: none submitted through moesim).
    public var mergeJob: String?
    /// Why Slurm states are missing, when they are.
    public var slurmNote: String?

    /// Points stored in the shards (or, without shards, in the results database).
    public var done: Int { plan == nil ? merged ?? 0 : shards.reduce(0) { $0 + min($1.done, $1.expected) } }
    /// Seconds until every shard is complete at the running tasks' rates (nil when none runs).
    public var eta: Double? {
        let rate = shards.compactMap(\.rate).reduce(0, +)
        return rate > 0 ? Double(points - done) / rate : nil
    }
    /// Whether the results database holds every point.
    public var isComplete: Bool { merged == points }

    /// Reads the status of the sweep writing `output`; `client` (nil: do not ask Slurm) gives
    /// the job states.
    public static func read(output: String, client: SlurmClient?) throws -> SweepStatus {
        let folder = SlurmSweepFolder(output: output)
        let summary = AtomicFile.exists(output) ? try ResultsDatabase.summary(of: output) : nil
        guard let planData = FileManager.default.contents(atPath: folder.planFile) else {
            guard let summary else {
                throw TraceStoreError(file: output, problem: "does not exist, and there is no Slurm sweep folder \(folder.path)",
                                      fix: "Give the -o path of a sweep that has run or been submitted.")
            }
            return SweepStatus(output: output, specName: summary.specName, specHash: summary.specHash, points: summary.pointsTotal,
                               merged: summary.stored, plan: nil, shards: [])
        }
        let plan: SlurmSweepPlan
        do {
            plan = try JSONDecoder().decode(SlurmSweepPlan.self, from: planData)
        } catch {
            throw TraceStoreError(file: folder.planFile, problem: "is not a Slurm sweep plan", fix: "Rerun `moesim sweep SPEC -o \(output) --slurm` to write it again.")
        }
        if let summary, summary.specHash != plan.specHash {
            throw TraceStoreError(file: output, problem: "holds results of spec hash \(summary.specHash), but \(folder.planFile) plans spec hash \(plan.specHash)",
                                  fix: "Move one of them aside: they belong to different sweeps.")
        }
        let records = try SlurmJobRecord.load(folder.jobsFile)
        var status = SweepStatus(output: output, specName: plan.specName, specHash: plan.specHash, points: plan.points,
                                 merged: summary?.stored, plan: plan, shards: [])
        let states = status.jobStates(records: records, client: client)
        for index in 0..<plan.tasks {
            let path = folder.shard(index)
            var done = 0
            if AtomicFile.exists(path) {
                let shard = try ResultsDatabase.summary(of: path)
                guard shard.specHash == plan.specHash else {
                    throw TraceStoreError(file: path, problem: "holds results of spec hash \(shard.specHash), not this sweep's \(plan.specHash)",
                                          fix: "Move \(folder.path) aside and submit again: it was laid out for another spec.")
                }
                done = shard.stored
            }
            let job = records.last { $0.kind == .array && $0.tasks.contains(index) }?.job
            status.shards.append(Shard(index: index, expected: plan.expectedPoints(shard: index), done: done,
                                       state: job.flatMap { states[SlurmJobState(job: $0, task: index, state: "").id] },
                                       log: Self.lastProgress(in: folder.log(index))))
        }
        status.mergeJob = records.last { $0.kind == .merge }?.job
        status.merge = status.mergeJob.flatMap { states[$0] }
        return status
    }

    /// The states of the recorded jobs by id: the queue's for active ones, accounting's for the rest.
    private mutating func jobStates(records: [SlurmJobRecord], client: SlurmClient?) -> [String: SlurmJobState] {
        guard !records.isEmpty else { return [:] }
        guard let client, client.canQueue else {
            slurmNote = "squeue is not on PATH: Slurm job states are not shown"
            return [:]
        }
        let jobs = Set(records.map(\.job))
        var states: [String: SlurmJobState] = [:]
        for state in client.accounting(jobs: jobs) ?? [] { states[state.id] = state }
        do {
            for state in try client.queue(jobs: jobs) { states[state.id] = state }
        } catch {
            slurmNote = "squeue failed, Slurm job states are not shown: \(error)"
            return [:]
        }
        return states
    }

    /// The last progress reported in the final 64 KiB of the log at `path`.
    private static func lastProgress(in path: String) -> SweepLogProgress? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 65_536 ? size - 65_536 : 0)
        guard let data = try? handle.readToEnd() else { return nil }
        return SweepLogProgress(log: Substring(String(decoding: data, as: UTF8.self)))
    }
}
