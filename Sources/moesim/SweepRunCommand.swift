import ArgumentParser
import Foundation
import Lab
import TraceStore

#if canImport(Glibc)
import Glibc
#endif

/// `moesim sweep [run] SPEC -o RESULTS`: runs a sweep here, one shard of it, or writes (and
/// with `--submit` submits) it as a Slurm job array.
struct SweepRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a sweep into a results database (the default subcommand of `sweep`).",
        discussion: """
            Rerunning the same spec into the same file after an interruption computes only the missing points. \
            With --shard i/n (i from 0), only points whose index is i mod n run; join the shards with `moesim merge`. \
            With --slurm, writes a Slurm job array (one task per shard) and a merge job that waits for it into RESULTS.slurm/; \
            --submit submits them, and running the same command again resubmits only unfinished shards. \
            Parameters (under [base] or [grid]): \(SweepParameter.allCases.map(\.rawValue).joined(separator: ", ")).
            """)

    @Argument(help: "The sweep spec (TOML).")
    var spec: String

    @Option(name: [.short, .customLong("output")], help: "The results database to write or resume.")
    var output: String

    @Option(help: "Worker threads (default: the number of cores).")
    var jobs = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Run one slice: i/n, i from 0 to n-1.")
    var shard: String?

    @Flag(help: "Run a grid above \(ValidRange.sweepPointsWithoutAsking) points without its max_points.")
    var yes = false

    @OptionGroup(title: "Slurm")
    var slurm: SlurmOptions

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1.") }
        _ = try parsedShard()
        if slurm.slurm && shard != nil { throw ValidationError("--slurm makes its own shards; leave out --shard.") }
        if !slurm.slurm && slurm.isSet { throw ValidationError("--tasks, --partition, --time, --cpus-per-task and --submit go with --slurm.") }
    }

    private func parsedShard() throws -> (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(index) else {
            throw ValidationError("--shard takes i/n with 0 ≤ i < n, e.g. 0/4 (or let --slurm write the job array).")
        }
        return (index, count)
    }

    func run() throws {
        let sweep = try SweepSpecFile.load(spec)
        if sweep.count > ValidRange.sweepPointsWithoutAsking && sweep.maxPoints == nil && !yes {
            throw TraceStoreError(
                file: spec, problem: "has \(sweep.count == Int.max ? "more than 2^63" : String(sweep.count)) points (\(sweep.grid.map { "\($0.values.count) \($0.parameter.rawValue)" }.joined(separator: " × "))), above the \(ValidRange.sweepPointsWithoutAsking) a sweep runs without asking",
                fix: "Shrink the grid, or confirm its size with --yes or `max_points = \(sweep.count)` in the spec.")
        }
        try AtomicFile.refuseOverwriting(inputs: [spec] + sweep.traces, output: output)
        var runner = SweepRunner(spec: sweep, jobs: jobs, shard: try parsedShard())
        try runner.check()
        if slurm.slurm {
            try slurm.writeAndSubmit(sweep: sweep, specPath: spec, output: output)
            return
        }
        let results = try ResultsDatabase(path: output, spec: sweep)
        let display = ProgressDisplay(terminal: isatty(2) == 1)
        let final = try runner.run(into: results) { display.show($0) }
        display.finish(final)
        let slice = shard.map { " (shard \($0))" } ?? ""
        print("sweep '\(sweep.name)'\(slice): \(final.done) points computed, \(final.resumed) already in \(output); \(sweep.count) points in the spec")
    }
}
