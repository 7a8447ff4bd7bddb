import Foundation
import Lab
import Testing

/// The Slurm job array and merge scripts a sweep is laid out as (issue 19).
@Suite("Slurm sweep plan")
struct SlurmSweepPlanTests {
    static func plan(points: Int = 96, tasks: Int = 3, executable: String = "/opt/moesim/bin/moesim") -> SlurmSweepPlan {
        SlurmSweepPlan(spec: "/home/a/spec.toml", specHash: "b68f4515bd900863", specName: "demo", points: points, output: "/scratch/a/results.sqlite",
                       tasks: tasks, workingDirectory: "/home/a", executable: executable, partition: "cpu", time: "2:00:00", cpusPerTask: 4)
    }

    @Test("the shards' expected points add up to the sweep, each within one of the others", arguments: [(96, 3), (97, 3), (5, 5), (10, 4), (1, 1), (1000, 16)])
    func expectedPointsPartition(points: Int, tasks: Int) {
        let plan = Self.plan(points: points, tasks: tasks)
        let counts = (0..<tasks).map { plan.expectedPoints(shard: $0) }
        #expect(counts.reduce(0, +) == points)
        #expect(counts.max()! - counts.min()! <= 1)
        for index in 0..<tasks {
            #expect(counts[index] == (0..<points).filter { $0 % tasks == index }.count)
        }
    }

    @Test("the array script has one task per shard, appends each shard's log, and runs shard i/N into its own database")
    func arrayScript() {
        let script = Self.plan().arrayScript
        for line in ["#SBATCH --array=0-2", "#SBATCH --job-name=moesim-sweep-b68f4515", "#SBATCH --cpus-per-task=4", "#SBATCH --partition=cpu",
                     "#SBATCH --time=2:00:00", "#SBATCH --chdir=/home/a", "#SBATCH --open-mode=append",
                     "#SBATCH --output=/scratch/a/results.sqlite.slurm/logs/shard-%a.out",
                     "exec /opt/moesim/bin/moesim sweep /home/a/spec.toml -o /scratch/a/results.sqlite.slurm/shards/shard-\"$shard\".sqlite \\",
                     "    --shard \"$shard/3\" --jobs \"${SLURM_CPUS_PER_TASK:-4}\""] {
            #expect(script.split(separator: "\n").contains(Substring(line)), "missing: \(line)")
        }
        #expect(script.hasPrefix("#!/bin/bash\n"))
    }

    @Test("the merge script joins every shard into the output and is dropped when a task fails")
    func mergeScript() {
        let script = Self.plan(points: 10, tasks: 4).mergeScript
        #expect(script.contains("#SBATCH --kill-on-invalid-dep=yes"))
        #expect(script.contains("exec /opt/moesim/bin/moesim merge \\\n"
            + (0..<4).map { "    /scratch/a/results.sqlite.slurm/shards/shard-\($0).sqlite \\\n" }.joined()
            + "    -o /scratch/a/results.sqlite\n"))
        #expect(!script.contains("--array"))
    }

    @Test("a path with spaces or quotes is one bash word in the script")
    func quoting() {
        let script = Self.plan(executable: "/opt/it's here/moesim").arrayScript
        #expect(script.contains("exec '/opt/it'\\''s here/moesim' sweep"))
    }

    @Test("options out of range are refused with the option named", arguments: [
        (tasks: 97, partition: "cpu", time: "10", "--tasks"),
        (tasks: 0, partition: "cpu", time: "10", "--tasks"),
        (tasks: 3, partition: "cpu gpu", time: "10", "--partition"),
        (tasks: 3, partition: "cpu", time: "2h", "--time"),
        (tasks: 3, partition: "cpu", time: "1-2:3:4:5", "--time"),
    ])
    func refusedOptions(tasks: Int, partition: String, time: String, option: String) {
        var plan = Self.plan(tasks: 3)
        plan.tasks = tasks
        plan.partition = partition
        plan.time = time
        #expect { try plan.validate() } throws: { "\($0)".contains(option) }
    }

    @Test("Slurm's time formats are accepted", arguments: ["30", "30:00", "2:00:00", "1-12", "1-12:30", "1-12:30:00"])
    func slurmTimes(time: String) throws {
        var plan = Self.plan()
        plan.time = time
        try plan.validate()
    }

    @Test("an output path with a space is refused: #SBATCH lines cannot carry it")
    func outputWithSpace() {
        var plan = Self.plan()
        plan.output = "/scratch/my results.sqlite"
        #expect { try plan.validate() } throws: { "\($0)".contains("cannot carry") }
    }

    @Test("default tasks are one per point up to 16")
    func defaultTasks() {
        #expect(SlurmSweepPlan.defaultTasks(points: 5) == 5)
        #expect(SlurmSweepPlan.defaultTasks(points: 96) == 16)
    }
}
