import Foundation
import TraceStore

#if canImport(Glibc)
import Glibc
#endif

/// A job (or one task of a job array) as the Slurm commands report it.
public struct SlurmJobState: Sendable, Equatable {
    /// The job's id; for an array task, the array's job id.
    public var job: String
    /// The array task index (nil: not an array task).
    public var task: Int?
    /// Slurm's state name: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, …
    public var state: String
    /// Why it pends ("Resources", "Dependency", …), when Slurm gives a reason.
    public var reason: String?

    /// The id Slurm prints: `123` or `123_4` for task 4 of array job 123.
    public var id: String { task.map { "\(job)_\($0)" } ?? job }

    /// Whether the job is still queued or running (not finished in any way).
    public var isActive: Bool {
        ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD"].contains(state)
    }
}

/// Slurm through its client commands: `sbatch --parsable` to submit, `squeue` for what is
/// queued or running, `sacct` (when accounting is on) for finished jobs, `scancel`.
/// Formats follow the squeue and sacct manuals (`%i` prints an array task as `job_task`,
/// `--array` lists pending tasks one per line; `sacct -P` separates fields with `|`).
public struct SlurmClient {
    private let sbatch: ExternalProgram
    private let squeue: ExternalProgram
    private let sacct: ExternalProgram
    private let scancel: ExternalProgram

    /// The client commands on `environment`'s `PATH`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        sbatch = ExternalProgram("sbatch", environment: environment)
        squeue = ExternalProgram("squeue", environment: environment)
        sacct = ExternalProgram("sacct", environment: environment)
        scancel = ExternalProgram("scancel", environment: environment)
    }

    /// Whether `sbatch` is on `PATH`.
    public var canSubmit: Bool { sbatch.path != nil }
    /// Whether `squeue` is on `PATH`.
    public var canQueue: Bool { squeue.path != nil }

    /// Submits `script`, optionally for some array tasks only and after `dependencies`
    /// (`afterok` on each); returns the job id.
    public func submit(script: String, tasks: [Int]? = nil, afterOK dependencies: [String] = []) throws -> String {
        var arguments = ["--parsable"]
        if let tasks { arguments.append("--array=" + Self.taskList(tasks)) }
        if !dependencies.isEmpty { arguments.append("--dependency=afterok:" + dependencies.joined(separator: ":")) }
        let printed = try sbatch.succeed(arguments + [script], fix: "Check the partition, time limit and account against `sinfo` and the cluster's documentation; the script is \(script).")
        // --parsable prints "jobid" or "jobid;cluster".
        guard let id = printed.split(whereSeparator: \.isNewline).last?.split(separator: ";").first.map(String.init),
              !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw TraceStoreError(file: "sbatch", problem: "printed '\(printed.trimmingCharacters(in: .whitespacesAndNewlines))' instead of a job id", fix: "Submit \(script) by hand and check its output.")
        }
        return id
    }

    /// The queued and running jobs among `jobs` (job ids; array tasks are reported one by one).
    public func queue(jobs: Set<String>) throws -> [SlurmJobState] {
        guard !jobs.isEmpty else { return [] }
        var arguments = ["--noheader", "--array", "--format=%i|%T|%r"]
        if let user = Self.userName { arguments.append("--user=" + user) }
        let printed = try squeue.succeed(arguments, fix: "Check that slurmctld answers (`squeue` on its own).")
        return Self.parse(printed).filter { jobs.contains($0.job) }
    }

    /// Finished and running jobs among `jobs` from accounting; nil when `sacct` is absent or
    /// accounting storage is off.
    public func accounting(jobs: Set<String>) -> [SlurmJobState]? {
        guard !jobs.isEmpty, sacct.path != nil,
              let output = try? sacct.run(["--noheader", "--parsable2", "--allocations", "--format=JobID,State", "--jobs=" + jobs.sorted().joined(separator: ",")]),
              output.status == 0 else { return nil }
        return Self.parse(output.stdout)
    }

    /// Cancels `ids` (jobs or `job_task` array tasks).
    public func cancel(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        _ = try scancel.succeed(ids, fix: "Cancel them by hand (scancel \(ids.joined(separator: " "))) and rerun.")
    }

    /// Parses `id|STATE[|reason]` lines; `id` is `job`, `job_task` or (pending, unexpanded) `job_[a-b]`.
    static func parse(_ text: String) -> [SlurmJobState] {
        text.split(whereSeparator: \.isNewline).compactMap { line -> SlurmJobState? in
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 2, !fields[0].isEmpty else { return nil }
            let parts = fields[0].split(separator: "_", maxSplits: 1)
            let state = fields[1].split(separator: " ").first.map(String.init) ?? fields[1]
            let reason = fields.count > 2 && !["None", "(null)", ""].contains(fields[2]) ? fields[2] : nil
            return SlurmJobState(job: String(parts[0]), task: parts.count == 2 ? Int(parts[1]) : nil, state: state, reason: reason)
        }
    }

    /// Task indices in sbatch's `--array` syntax, runs joined: [0, 1, 2, 5] → `0-2,5`.
    public static func taskList(_ tasks: [Int]) -> String {
        var runs: [String] = []
        var index = 0
        let sorted = tasks.sorted()
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
            runs.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
            index = end + 1
        }
        return runs.joined(separator: ",")
    }

    private static var userName: String? {
        guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }
}
