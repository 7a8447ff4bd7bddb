import TraceStore

/// A sweep laid out as a Slurm job array: task i runs `moesim sweep --shard i/N` into its own
/// shard database, and a merge job that waits for the whole array (`--dependency=afterok`)
/// joins the shards into the results database with `moesim merge`. The plan is what the
/// batch scripts are written from, and it is kept (as JSON) beside them, so that a rerun of the
/// same command resubmits only unfinished shards of the same layout.
///
/// Directives follow the sbatch manual (https://slurm.schedmd.com/sbatch.html): `--array`,
/// `--output` with `%a` (the array index), `--open-mode=append` (a resubmitted task adds to
/// its log instead of truncating it), `--chdir` (relative trace paths in the spec resolve as
/// they did where the command ran) and `--kill-on-invalid-dep=yes` (a merge whose array task
/// failed is removed instead of pending forever).
public struct SlurmSweepPlan: Sendable, Equatable, Codable {
    /// The sweep spec (absolute path).
    public var spec: String
    /// The spec's hash (``SweepSpec/hash``): shards of another spec are never mixed in.
    public var specHash: String
    /// The spec's name.
    public var specName: String
    /// Points in the sweep.
    public var points: Int
    /// The merged results database (absolute path).
    public var output: String
    /// Array tasks, one per shard.
    public var tasks: Int
    /// The folder the tasks start in (where the command ran).
    public var workingDirectory: String
    /// The moesim executable the tasks run (absolute; it must be visible on the compute nodes).
    public var executable: String
    /// Slurm partition (nil: the cluster's default).
    public var partition: String?
    /// Time limit per task in a Slurm time format, e.g. `30`, `2:00:00`, `1-12` (nil: the partition's).
    public var time: String?
    /// CPUs per task; each task runs that many simulation threads.
    public var cpusPerTask: Int

    /// A plan; check it with ``validate()``.
    public init(spec: String, specHash: String, specName: String, points: Int, output: String, tasks: Int, workingDirectory: String,
                executable: String, partition: String? = nil, time: String? = nil, cpusPerTask: Int = 1) {
        self.spec = spec
        self.specHash = specHash
        self.specName = specName
        self.points = points
        self.output = output
        self.tasks = tasks
        self.workingDirectory = workingDirectory
        self.executable = executable
        self.partition = partition
        self.time = time
        self.cpusPerTask = cpusPerTask
    }

    /// The most array tasks a plan asks for: Slurm's default `MaxArraySize` is 1001 (indices 0–1000).
    public static let maxTasks = 1000

    /// The folder of this plan's files.
    public var folder: SlurmSweepFolder { SlurmSweepFolder(output: output) }

    /// Tasks when none are asked for: one per point up to 16.
    public static func defaultTasks(points: Int) -> Int { max(1, min(points, 16)) }

    /// Points of shard `index`: the indices k < ``points`` with k mod ``tasks`` = index.
    public func expectedPoints(shard index: Int) -> Int {
        index < points ? (points - index + tasks - 1) / tasks : 0
    }

    /// Checks the options a user gave; the error names the option and the fix.
    public func validate() throws {
        guard (1...min(max(points, 1), Self.maxTasks)).contains(tasks) else {
            throw TraceStoreError(file: spec, place: "--tasks", problem: "asks for \(tasks) array tasks; the sweep has \(points) points and Slurm's default MaxArraySize allows \(Self.maxTasks)",
                                  fix: "Give --tasks between 1 and \(min(max(points, 1), Self.maxTasks)).")
        }
        guard (1...1024).contains(cpusPerTask) else {
            throw TraceStoreError(file: spec, place: "--cpus-per-task", problem: "is \(cpusPerTask)", fix: "Give 1 to 1024 CPUs per task.")
        }
        if let partition, partition.isEmpty || !partition.allSatisfy({ $0.isLetter || $0.isNumber || "_-.,".contains($0) }) {
            throw TraceStoreError(file: spec, place: "--partition", problem: "'\(partition)' is not a partition name", fix: "Give a name from `sinfo -s` (letters, digits, _ - . and commas).")
        }
        for (option, path) in [("-o", output), ("the working folder", workingDirectory)]
        where path.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "'" || $0 == "\\" }) {
            throw TraceStoreError(file: path, place: option, problem: "contains a space, quote or backslash, which #SBATCH directives cannot carry",
                                  fix: "Run from, and write to, a path without spaces or quotes.")
        }
        if let time, !Self.isSlurmTime(time) {
            throw TraceStoreError(file: spec, place: "--time", problem: "'\(time)' is not a Slurm time", fix: "Give minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (e.g. 2:00:00).")
        }
    }

    /// Whether `text` is one of sbatch's time formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`.
    static func isSlurmTime(_ text: String) -> Bool {
        let dayParts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard dayParts.count <= 2 else { return false }
        let clock = dayParts.last!.split(separator: ":", omittingEmptySubsequences: false)
        let numbers = (dayParts.count == 2 ? [dayParts[0]] : []) + clock
        guard numbers.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return false }
        return clock.count <= 3
    }

    private var hashTag: String { String(specHash.prefix(8)) }

    /// The job array's name (`squeue` shows it).
    public var arrayJobName: String { "moesim-sweep-\(hashTag)" }
    /// The merge job's name.
    public var mergeJobName: String { "moesim-merge-\(hashTag)" }

    private func header(job: String, output log: String, extra: [String]) -> [String] {
        ["#!/bin/bash",
         "# moesim sweep '\(specName)' (spec \(spec), hash \(specHash)), \(points) points in \(tasks) shards.",
         "# Written by `moesim sweep --slurm` (\(MoesimVersion.current)); run that command again to resubmit unfinished shards.",
         "#SBATCH --job-name=\(job)"]
            + extra
            + ["#SBATCH --output=\(log)",
               "#SBATCH --open-mode=append",
               "#SBATCH --chdir=\(workingDirectory)",
               "#SBATCH --ntasks=1"]
            + (partition.map { ["#SBATCH --partition=\($0)"] } ?? [])
            + (time.map { ["#SBATCH --time=\($0)"] } ?? [])
    }

    /// The job array script: task i runs shard i/N into its shard database (resumable).
    public var arrayScript: String {
        let folder = self.folder
        let lines = header(job: arrayJobName, output: folder.logsFolder + "/shard-%a.out",
                           extra: ["#SBATCH --array=0-\(tasks - 1)", "#SBATCH --cpus-per-task=\(cpusPerTask)"])
            + ["set -euo pipefail",
               "shard=\"${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is a Slurm job array}\"",
               "echo \"moesim: shard $shard/\(tasks) of job ${SLURM_ARRAY_JOB_ID:-?} on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ)\"",
               "exec \(Self.quoted(executable)) sweep \(Self.quoted(spec)) -o \(Self.quoted(folder.shardsFolder + "/shard-"))\"$shard\".sqlite \\",
               "    --shard \"$shard/\(tasks)\" --jobs \"${SLURM_CPUS_PER_TASK:-\(cpusPerTask)}\""]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The merge script: joins every shard database into ``output``.
    public var mergeScript: String {
        let folder = self.folder
        let shards = (0..<tasks).map { Self.quoted(folder.shard($0)) }
        let lines = header(job: mergeJobName, output: folder.mergeLog, extra: ["#SBATCH --kill-on-invalid-dep=yes", "#SBATCH --cpus-per-task=1"])
            + ["set -euo pipefail",
               "echo \"moesim: merge of \(tasks) shards (job ${SLURM_JOB_ID:-?}) at $(date -u +%Y-%m-%dT%H:%M:%SZ)\"",
               "exec \(Self.quoted(executable)) merge \\"]
            + shards.map { "    \($0) \\" }
            + ["    -o \(Self.quoted(output))"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` as one word for bash: single-quoted, with each `'` written as `'\''`.
    static func quoted(_ text: String) -> String {
        if !text.isEmpty && text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/._-+,:=@%".contains($0)) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
