import ArgumentParser
import Foundation
import Lab
import TOML
import TraceStore

#if canImport(Glibc)
import Glibc
#endif

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a grid of simulations from a spec file into a results database (resumable, shardable).",
        discussion: """
            Rerunning the same spec into the same file after an interruption computes only the missing points. \
            With --shard i/n (i from 0), only points whose index is i mod n run; join the shards with `moesim merge`. \
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

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1.") }
        _ = try parsedShard()
    }

    private func parsedShard() throws -> (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(index) else {
            throw ValidationError("--shard takes i/n with 0 ≤ i < n, e.g. 0/4 (Slurm: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=0-(n-1)).")
        }
        return (index, count)
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: spec) else {
            throw TraceStoreError(file: spec, problem: "cannot be read", fix: "Check the path of the sweep spec.")
        }
        let sweep: SweepSpec
        do {
            sweep = try SweepSpec(toml: String(decoding: data, as: UTF8.self), file: spec)
        } catch let error as TOMLFileError {
            throw TraceStoreError(file: spec, place: error.line > 0 ? "line \(error.line)" : "", problem: error.problem, fix: "Fix the sweep spec.")
        }
        if sweep.count > ValidRange.sweepPointsWithoutAsking && sweep.maxPoints == nil && !yes {
            throw TraceStoreError(
                file: spec, problem: "has \(sweep.count == Int.max ? "more than 2^63" : String(sweep.count)) points (\(sweep.grid.map { "\($0.values.count) \($0.parameter.rawValue)" }.joined(separator: " × "))), above the \(ValidRange.sweepPointsWithoutAsking) a sweep runs without asking",
                fix: "Shrink the grid, or confirm its size with --yes or `max_points = \(sweep.count)` in the spec.")
        }
        let traces = sweep.grid.first { $0.parameter == .trace }.map { $0.values.compactMap(\.string) } ?? sweep.base[.trace].flatMap(\.string).map { [$0] } ?? []
        try AtomicFile.refuseOverwriting(inputs: [spec] + traces, output: output)
        var runner = SweepRunner(spec: sweep, jobs: jobs, shard: try parsedShard())
        try runner.check()
        let results = try ResultsDatabase(path: output, spec: sweep)
        let display = ProgressDisplay(terminal: isatty(2) == 1)
        let final = try runner.run(into: results) { display.show($0) }
        display.finish(final)
        let slice = shard.map { " (shard \($0))" } ?? ""
        print("sweep '\(sweep.name)'\(slice): \(final.done) points computed, \(final.resumed) already in \(output); \(sweep.count) points in the spec")
    }
}

/// Progress on standard error: a bar redrawn in place on a terminal, otherwise a plain line every few seconds.
private final class ProgressDisplay {
    let terminal: Bool
    private var lastLine = Date.distantPast

    init(terminal: Bool) { self.terminal = terminal }

    func show(_ progress: SweepProgress) {
        let now = Date()
        if !terminal && now.timeIntervalSince(lastLine) < 5 && progress.done < progress.total { return }
        lastLine = now
        let eta = progress.remaining.map { "ETA \(Int($0.rounded())) s" } ?? "ETA —"
        let counts = "\(progress.done)/\(progress.total) points, \(Format.fixed(progress.rate, 1)) points/s, \(eta)"
        if terminal {
            let width = 30
            let filled = progress.total == 0 ? width : width * progress.done / progress.total
            printError("\u{1B}[2K\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] " + counts, newline: false)
        } else {
            printError("sweep: " + counts)
        }
    }

    func finish(_ progress: SweepProgress) {
        if terminal && progress.total > 0 { printError("") }
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Join results databases of one sweep spec (e.g. its shards) without duplicates.")

    @Argument(help: "Results databases written by `moesim sweep`.")
    var inputs: [String]

    @Option(name: [.short, .customLong("output")], help: "The merged database to write.")
    var output: String

    func run() throws {
        try AtomicFile.refuseOverwriting(inputs: inputs, output: output)
        let (points, duplicates) = try ResultsMerge.merge(inputs, into: output)
        print("merged \(inputs.count) files into \(output): \(points) points (\(duplicates) duplicates dropped)")
    }
}
