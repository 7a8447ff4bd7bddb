extension SweepStatus: Encodable {
    private enum Keys: String, CodingKey {
        case output, specName = "spec_name", specHash = "spec_hash", points, stored, merged, complete, etaSeconds = "eta_s"
        case slurmFolder = "slurm_folder", shards, mergeJob = "merge_job", mergeState = "merge_state", slurmNote = "slurm_note"
    }

    /// The status as `moesim sweep status --json` prints it: snake-case keys, seconds for ETAs.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(output, forKey: .output)
        try container.encode(specName, forKey: .specName)
        try container.encode(specHash, forKey: .specHash)
        try container.encode(points, forKey: .points)
        try container.encode(done, forKey: .stored)
        try container.encode(merged, forKey: .merged)
        try container.encode(isComplete, forKey: .complete)
        try container.encode(eta, forKey: .etaSeconds)
        try container.encodeIfPresent(plan?.folder.path, forKey: .slurmFolder)
        if plan != nil {
            try container.encode(shards, forKey: .shards)
            try container.encode(mergeJob, forKey: .mergeJob)
            try container.encode(merge?.state, forKey: .mergeState)
        }
        try container.encodeIfPresent(slurmNote, forKey: .slurmNote)
    }
}

extension SweepStatus.Shard: Encodable {
    private enum Keys: String, CodingKey {
        case index, stored, expected, complete, job, state, reason, rate = "points_per_s", etaSeconds = "eta_s"
    }

    /// One shard's row of `moesim sweep status --json`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(index, forKey: .index)
        try container.encode(done, forKey: .stored)
        try container.encode(expected, forKey: .expected)
        try container.encode(isComplete, forKey: .complete)
        try container.encode(state?.id, forKey: .job)
        try container.encode(state?.state, forKey: .state)
        try container.encode(state?.reason, forKey: .reason)
        try container.encode(rate, forKey: .rate)
        try container.encode(eta, forKey: .etaSeconds)
    }
}
