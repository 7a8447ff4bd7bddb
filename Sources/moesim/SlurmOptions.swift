import ArgumentParser
import Foundation
import Lab
import TraceStore

/// The `--slurm` options of `moesim sweep`, and what they do: lay the sweep out as a Slurm
/// job array with a merge job (``SlurmSweepPlan``) in RESULTS.slurm/, then print the scripts
/// and the commands, or submit what is unfinished (``SlurmSweepSubmission``).
struct SlurmOptions: ParsableArguments {
    @Flag(help: "Write a Slurm job array (one task per shard) and a merge job into RESULTS.slurm/ instead of running here.")
    var slurm = false

    @Option(help: "Array tasks, one shard each (default: one per point, at most 16; a folder already laid out keeps its count).")
    var tasks: Int?

    @Option(help: "Slurm partition (default: the cluster's).")
    var partition: String?

    @Option(help: "Time limit per task, e.g. 30 (minutes), 2:00:00, 1-12 (default: the partition's).")
    var time: String?

    @Option(help: "CPUs per task; each task runs that many simulation threads (default 1).")
    var cpusPerTask: Int?

    @Flag(help: "Submit with sbatch: unfinished shards as an array job, then the merge job after it (afterok).")
    var submit = false

    /// Whether any Slurm option besides --slurm was given.
    var isSet: Bool { tasks != nil || partition != nil || time != nil || cpusPerTask != nil || submit }

    /// Writes the plan and scripts for `sweep` (read from `specPath`) into `output`'s folder,
    /// then submits or prints them.
    func writeAndSubmit(sweep: SweepSpec, specPath: String, output: String) throws {
        let plan = try makePlan(sweep: sweep, specPath: specPath, output: SweepSpecFile.absolute(output))
        let folder = plan.folder
        for path in [folder.path, folder.shardsFolder, folder.logsFolder] {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw TraceStoreError(file: path, problem: "cannot be created (\(error.localizedDescription))", fix: "Write the results where you can create a folder beside them.")
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(String(decoding: try encoder.encode(plan), as: UTF8.self) + "\n", to: folder.planFile)
        try AtomicFile.write(plan.arrayScript, to: folder.arrayScript)
        try AtomicFile.write(plan.mergeScript, to: folder.mergeScript)

        let client = SlurmClient()
        let status = try SweepStatus.read(output: plan.output, client: client.canQueue ? client : nil)
        let submission = try SlurmSweepSubmission(status: status)
        guard !submission.isEmpty else {
            print(status.isComplete ? "sweep '\(sweep.name)': \(output) already holds all \(sweep.count) points; nothing to submit"
                                    : "nothing to submit: every unfinished shard is queued or running, and merge job \(status.mergeJob ?? "?") waits for them")
            return
        }
        let tasks = submission.shards.count == plan.tasks ? nil : submission.shards
        guard submit else {
            printScripts(plan, submission, tasks: tasks)
            return
        }
        guard client.canSubmit else {
            throw TraceStoreError(file: "sbatch", problem: "is not on PATH, so --submit cannot submit", fix: "Run on a Slurm login node, or leave out --submit and submit the scripts in \(folder.path) yourself.")
        }
        try client.cancel(submission.replacedMerges)
        var records = try SlurmJobRecord.load(folder.jobsFile)
        let now = ISO8601DateFormatter().string(from: Date())
        var arrayJob: String?
        if !submission.shards.isEmpty {
            let job = try client.submit(script: folder.arrayScript, tasks: tasks)
            records.append(SlurmJobRecord(kind: .array, job: job, tasks: submission.shards, submitted: now))
            try SlurmJobRecord.save(records, to: folder.jobsFile)
            print("submitted array job \(job): shards \(submission.shards.map(String.init).joined(separator: ",")) of \(plan.tasks) (logs in \(folder.logsFolder)/)")
            arrayJob = job
        }
        if !submission.replacedMerges.isEmpty { print("cancelled merge job \(submission.replacedMerges.joined(separator: ", ")), replaced by:") }
        let dependencies = submission.dependencies(newArrayJob: arrayJob)
        let merge = try client.submit(script: folder.mergeScript, afterOK: dependencies)
        records.append(SlurmJobRecord(kind: .merge, job: merge, submitted: now))
        try SlurmJobRecord.save(records, to: folder.jobsFile)
        print("submitted merge job \(merge)" + (dependencies.isEmpty ? "" : " (after \(dependencies.joined(separator: ", ")))") + ": writes \(output)")
        print("follow it with: moesim sweep status \(output)")
    }

    /// The plan for this command: a folder already laid out keeps its task count and spec.
    private func makePlan(sweep: SweepSpec, specPath: String, output: String) throws -> SlurmSweepPlan {
        let folder = SlurmSweepFolder(output: output)
        var previous: SlurmSweepPlan?
        if let data = FileManager.default.contents(atPath: folder.planFile) {
            previous = try? JSONDecoder().decode(SlurmSweepPlan.self, from: data)
            guard let previous else {
                throw TraceStoreError(file: folder.planFile, problem: "is not a Slurm sweep plan", fix: "Move \(folder.path) aside and run again.")
            }
            guard previous.specHash == sweep.hash else {
                throw TraceStoreError(file: folder.path, problem: "was laid out for spec '\(previous.specName)' (hash \(previous.specHash)); \(specPath) has hash \(sweep.hash)",
                                      fix: "Write this sweep to another -o, or move \(folder.path) aside to start over.")
            }
            if let tasks, tasks != previous.tasks {
                throw TraceStoreError(file: folder.path, place: "--tasks", problem: "holds \(previous.tasks) shards; \(tasks) tasks would split the points differently",
                                      fix: "Rerun with --tasks \(previous.tasks) (or without --tasks), or move \(folder.path) aside to start over.")
            }
        }
        let plan = SlurmSweepPlan(
            spec: SweepSpecFile.absolute(specPath), specHash: sweep.hash, specName: sweep.name, points: sweep.count, output: output,
            tasks: tasks ?? previous?.tasks ?? SlurmSweepPlan.defaultTasks(points: sweep.count),
            workingDirectory: FileManager.default.currentDirectoryPath, executable: Self.executable,
            partition: partition ?? previous?.partition, time: time ?? previous?.time, cpusPerTask: cpusPerTask ?? previous?.cpusPerTask ?? 1)
        try plan.validate()
        return plan
    }

    private func printScripts(_ plan: SlurmSweepPlan, _ submission: SlurmSweepSubmission, tasks: [Int]?) {
        let folder = plan.folder
        print("# \(folder.arrayScript)")
        print(plan.arrayScript)
        print("# \(folder.mergeScript)")
        print(plan.mergeScript)
        print("# Submit (or rerun this command with --submit, which also tracks the jobs for `moesim sweep status`):")
        var dependencies = submission.activeTasks
        if !submission.replacedMerges.isEmpty { print("scancel \(submission.replacedMerges.joined(separator: " "))") }
        if !submission.shards.isEmpty {
            print("array=$(sbatch --parsable\(tasks.map { " --array=" + SlurmClient.taskList($0) } ?? "") \(folder.arrayScript))")
            dependencies.insert("$array", at: 0)
        }
        print("sbatch\(dependencies.isEmpty ? "" : " --dependency=afterok:" + dependencies.joined(separator: ":")) \(folder.mergeScript)")
    }

    /// This moesim's executable, absolute, for the batch scripts to run.
    private static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? SweepSpecFile.absolute(CommandLine.arguments[0])
    }
}
