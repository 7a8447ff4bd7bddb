import TraceStore

extension SweepStatus {
    /// The status as lines for a terminal: the sweep, the results database and, for a Slurm
    /// sweep, one row per shard (points stored, expected, Slurm state, rate, ETA) and a total.
    public var lines: [String] {
        var lines = ["sweep '\(specName)' (spec hash \(specHash)): \(points) points; \(output) "
            + (merged.map { $0 == points ? "holds all of them" : "holds \($0)" } ?? "does not exist yet")]
        guard let plan else { return lines }
        let folder = plan.folder
        let merge = mergeJob.map { job in "merge job \(job) " + (self.merge.map { $0.state + ($0.reason.map { " (\($0))" } ?? "") } ?? "not in the queue") }
            ?? "no merge job submitted"
        lines.append("Slurm: \(plan.tasks) shards in \(folder.path)/; \(merge)")
        if let slurmNote { lines.append("(\(slurmNote))") }
        let rows = shards.map { shard -> [String] in
            [String(shard.index), String(shard.done), String(shard.expected),
             shard.isComplete ? "complete" : shard.state.map(Self.describe) ?? "not queued",
             shard.rate.map { Format.fixed($0, 2) + "/s" } ?? "", shard.eta.map(Self.duration) ?? ""]
        }
        let total = ["total", String(done), String(points), "", shards.compactMap(\.rate).isEmpty ? "" : Format.fixed(shards.compactMap(\.rate).reduce(0, +), 2) + "/s",
                     eta.map(Self.duration) ?? ""]
        let header = ["shard", "stored", "expected", "state", "rate", "ETA"]
        let table = [header] + rows + [total]
        let widths = (0..<header.count).map { column in table.map { $0[column].count }.max()! }
        for row in table {
            lines.append(zip(row, widths).map { $0.rightPadded($1) }.joined(separator: "  ")
                .trimmingTrailingSpaces())
        }
        return lines
    }

    private static func describe(_ state: SlurmJobState) -> String {
        "\(state.id) \(state.state)" + (state.reason.map { " (\($0))" } ?? "")
    }

    private static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return whole < 120 ? "\(whole) s" : whole < 7200 ? "\(whole / 60) min" : "\(whole / 3600) h \(whole % 3600 / 60) min"
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
