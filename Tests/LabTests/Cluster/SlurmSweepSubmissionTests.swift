@testable import Lab
import Testing

/// What a rerun of `moesim sweep --slurm --submit` submits, given where the sweep stands.
@Suite("Slurm sweep submission")
struct SlurmSweepSubmissionTests {
    /// A 96-point, 3-shard sweep with shard `done` counts and task states.
    static func status(done: [Int], states: [String?], merge: SlurmJobState? = nil, merged: Int? = nil) -> SweepStatus {
        let plan = SlurmSweepPlanTests.plan()
        let shards = done.indices.map { index in
            SweepStatus.Shard(index: index, expected: 32, done: done[index],
                              state: states[index].map { SlurmJobState(job: "5", task: index, state: $0) }, log: nil)
        }
        return SweepStatus(output: plan.output, specName: "demo", specHash: plan.specHash, points: 96, merged: merged, plan: plan,
                           shards: shards, merge: merge, mergeJob: merge?.job)
    }

    @Test("a fresh sweep submits every shard and a merge after them")
    func fresh() throws {
        let submission = try SlurmSweepSubmission(status: Self.status(done: [0, 0, 0], states: [nil, nil, nil]))
        #expect(submission.shards == [0, 1, 2] && submission.merge && submission.activeTasks.isEmpty)
        #expect(submission.dependencies(newArrayJob: "9") == ["9"])
    }

    @Test("a cancelled shard is resubmitted alone; the merge waits for it and for the tasks still running, and replaces the stranded merge")
    func cancelledShard() throws {
        let submission = try SlurmSweepSubmission(status: Self.status(
            done: [8, 3, 0], states: ["RUNNING", "CANCELLED", "PENDING"],
            merge: SlurmJobState(job: "6", state: "PENDING", reason: "DependencyNeverSatisfied")))
        #expect(submission.shards == [1])
        #expect(submission.dependencies(newArrayJob: "9") == ["9", "5_0", "5_2"])
        #expect(submission.replacedMerges == ["6"] && submission.merge)
    }

    @Test("complete shards are not resubmitted; the merge runs at once when every shard is complete")
    func completeShards() throws {
        let submission = try SlurmSweepSubmission(status: Self.status(done: [32, 32, 32], states: ["COMPLETED", nil, nil]))
        #expect(submission.shards.isEmpty && submission.merge && submission.dependencies(newArrayJob: nil).isEmpty)
    }

    @Test("a sweep whose results hold every point submits nothing")
    func finished() throws {
        #expect(try SlurmSweepSubmission(status: Self.status(done: [32, 32, 32], states: [nil, nil, nil], merged: 96)).isEmpty)
    }

    @Test("while every unfinished shard runs and the merge waits for them, nothing is submitted")
    func nothingNew() throws {
        let submission = try SlurmSweepSubmission(status: Self.status(
            done: [8, 32, 0], states: ["RUNNING", "COMPLETED", "PENDING"], merge: SlurmJobState(job: "6", state: "PENDING", reason: "Dependency")))
        #expect(submission.isEmpty)
    }

    @Test("a running merge is not raced: the rerun is refused")
    func runningMerge() {
        #expect { try SlurmSweepSubmission(status: Self.status(done: [32, 32, 32], states: [nil, nil, nil], merge: SlurmJobState(job: "6", state: "RUNNING"))) }
            throws: { "\($0)".contains("merge job 6 (RUNNING)") }
    }
}
