@testable import Lab
import Testing

/// Reading what squeue and sacct print, and writing sbatch's --array lists.
@Suite("Slurm client output")
struct SlurmClientParsingTests {
    @Test("squeue lines give the array job, the task, the state and the reason")
    func squeueLines() {
        let states = SlurmClient.parse("12_0|RUNNING|None\n12_2|PENDING|Resources\n13|PENDING|DependencyNeverSatisfied\n")
        #expect(states == [
            SlurmJobState(job: "12", task: 0, state: "RUNNING", reason: nil),
            SlurmJobState(job: "12", task: 2, state: "PENDING", reason: "Resources"),
            SlurmJobState(job: "13", task: nil, state: "PENDING", reason: "DependencyNeverSatisfied"),
        ])
        #expect(states.map(\.id) == ["12_0", "12_2", "13"])
        #expect(states.allSatisfy { $0.isActive })
    }

    @Test("sacct states keep their first word and finished states are not active")
    func sacctLines() {
        let states = SlurmClient.parse("12_1|CANCELLED by 0\n12_0|COMPLETED\n14|FAILED\n")
        #expect(states.map(\.state) == ["CANCELLED", "COMPLETED", "FAILED"])
        #expect(!states.contains { $0.isActive })
    }

    @Test("task lists join runs", arguments: [([0, 1, 2], "0-2"), ([1], "1"), ([5, 0, 1, 2, 7, 8], "0-2,5,7-8"), ([3, 5], "3,5")])
    func taskLists(tasks: [Int], text: String) {
        #expect(SlurmClient.taskList(tasks) == text)
    }
}
