import TraceStore

/// What submitting a Slurm sweep does, decided from its status: which shards get a new array
/// task (those neither complete nor queued or running), which queued or running tasks of
/// earlier submissions the merge must also wait for, and which pending merge jobs it replaces.
/// So running the same command again after a failed or cancelled task resubmits just that
/// shard, and the shard resumes from the points its database already holds.
public struct SlurmSweepSubmission: Sendable, Equatable {
    /// Shards to submit as a new array job.
    public var shards: [Int]
    /// Active tasks (`job_task`) of earlier submissions, which the new merge waits for.
    public var activeTasks: [String]
    /// Pending merge jobs to cancel, replaced by the new one.
    public var replacedMerges: [String]
    /// Whether a merge job is to be submitted.
    public var merge: Bool

    /// Whether there is nothing to submit.
    public var isEmpty: Bool { shards.isEmpty && !merge }

    /// Decides from `status` (which must be a Slurm sweep's). Refuses while a merge job runs.
    public init(status: SweepStatus) throws {
        guard !status.isComplete else {
            (shards, activeTasks, replacedMerges, merge) = ([], [], [], false)
            return
        }
        shards = status.shards.filter { !$0.isComplete && !$0.isActive }.map(\.index)
        activeTasks = status.shards.filter { !$0.isComplete && $0.isActive }.compactMap { $0.state?.id }
        replacedMerges = []
        merge = false
        if let merge = status.merge, merge.isActive {
            guard merge.state == "PENDING" else {
                throw TraceStoreError(file: status.output, problem: "is being written by merge job \(merge.id) (\(merge.state))",
                                      fix: "Wait for it to finish (squeue -j \(merge.id)), then check with `moesim sweep status \(status.output)`.")
            }
            // A merge that still waits on live tasks stays; one whose dependency can never be met is replaced.
            if shards.isEmpty && merge.reason != "DependencyNeverSatisfied" { return }
            replacedMerges = [merge.id]
        }
        merge = true
    }

    /// The job ids the new merge job waits for: the new array job (when one is submitted) and
    /// the active tasks of earlier ones.
    public func dependencies(newArrayJob: String?) -> [String] {
        (newArrayJob.map { [$0] } ?? []) + activeTasks
    }
}
