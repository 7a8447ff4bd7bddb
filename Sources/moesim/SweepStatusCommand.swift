import ArgumentParser
import Foundation
import Lab
import TraceStore

/// `moesim sweep status`: where a sweep stands, locally or on Slurm.
struct SweepStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Say where a sweep stands: points stored, per shard of a Slurm sweep stored and expected, rate, ETA and job states.",
        discussion: "Give the results database (`status results.sqlite`), or the spec and the database as to `sweep` (`status SPEC -o results.sqlite`). Slurm states come from squeue (and sacct, when accounting is on) when they are on PATH.")

    @Argument(help: "The results database, or the sweep spec (TOML) with -o.")
    var path: String

    @Option(name: [.short, .customLong("output")], help: "The results database, when the argument is the spec.")
    var output: String?

    @Flag(help: "Print the status as JSON.")
    var json = false

    func run() throws {
        var results = path
        var specHash: String?
        if let output {
            specHash = try SweepSpecFile.load(path).hash
            results = output
        } else if path.hasSuffix(".toml") {
            throw TraceStoreError(file: path, problem: "is a sweep spec, and a spec does not say where its results go",
                                  fix: "Add the results database: `moesim sweep status \(path) -o RESULTS`.")
        }
        let client = SlurmClient()
        let status = try SweepStatus.read(output: SweepSpecFile.absolute(results), client: client.canQueue ? client : nil)
        if let specHash, specHash != status.specHash {
            throw TraceStoreError(file: results, problem: "belongs to sweep '\(status.specName)' (hash \(status.specHash)), not to \(path) (hash \(specHash))",
                                  fix: "Give the spec that wrote it, or its own -o path.")
        }
        if json {
            print(try JSONOutput.encode(status))
        } else {
            for line in status.lines { print(line) }
        }
    }
}
