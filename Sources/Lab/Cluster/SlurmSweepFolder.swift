/// Where a sweep run through Slurm keeps its files: one folder beside the results database
/// (`results.sqlite` → `results.sqlite.slurm/`) with the plan, the two batch scripts, the
/// submitted job ids, one results database per shard and one log per shard.
public struct SlurmSweepFolder: Sendable, Equatable {
    /// The merged results database (absolute).
    public let output: String

    /// The folder of `output`.
    public init(output: String) { self.output = output }

    /// The folder itself.
    public var path: String { output + ".slurm" }
    /// The plan the scripts were written from (JSON).
    public var planFile: String { path + "/plan.json" }
    /// The job array script: one task per shard.
    public var arrayScript: String { path + "/sweep.sbatch" }
    /// The merge job script.
    public var mergeScript: String { path + "/merge.sbatch" }
    /// Every job submitted for this sweep, one JSON object per line.
    public var jobsFile: String { path + "/jobs.jsonl" }
    /// The shard databases' folder.
    public var shardsFolder: String { path + "/shards" }
    /// The logs' folder.
    public var logsFolder: String { path + "/logs" }
    /// Shard `index`'s results database.
    public func shard(_ index: Int) -> String { "\(shardsFolder)/shard-\(index).sqlite" }
    /// Shard `index`'s log (standard output and error of its task, appended on every run).
    public func log(_ index: Int) -> String { "\(logsFolder)/shard-\(index).out" }
    /// The merge job's log.
    public var mergeLog: String { logsFolder + "/merge.out" }
}
