import Foundation
import TestSupport

/// A 16-point sweep (bus 12.6/50.4 GB/s × cache 2/8 GiB × LRU/Belady ×
/// on-demand/default-vector-speculation) of a short trace synthesised like the bundled demo
/// trace (768 tokens: three of its 64 + 192-token sequences), run once per test process through
/// the CLI and shared by the report and notebook tests. The demo trace itself (6,144 tokens)
/// took the debug build more than five minutes of CPU, the longest step of the test run.
enum DemoSweepResults {
    /// The folder holding `spec.toml` and `results.sqlite`, and how the sweep ended.
    static let outcome: (folder: String, sweep: Result<CLI.Result, any Error>) = {
        let folder = Repository.temporaryFolder()
        let spec = """
            name = "report test"
            [base]
            trace = "\(folder)/short.sqlite"
            hardware = "rtx-a6000"
            [grid]
            bus_gbps = [12.6, 50.4]
            cache_mib = [2048, 8192]
            eviction = ["lru", "belady"]
            policy = ["on-demand", "default-vector-speculation"]
            """
        let sweep = Result {
            let synth = try CLI.run(["trace", "synth", "--like", Repository.root + "/traces/demo.sqlite", "--tokens", "768", "--prefill", "64",
                                     "--decode", "192", "--seed", "7", "-o", folder + "/short.sqlite"])
            guard synth.status == 0 else { return synth }
            try spec.write(toFile: folder + "/spec.toml", atomically: true, encoding: .utf8)
            return try CLI.run(["sweep", folder + "/spec.toml", "-o", folder + "/results.sqlite", "--jobs", "2"])
        }
        return (folder, sweep)
    }()

    /// The results database, after checking that the sweep succeeded.
    static func database() throws -> String {
        let result = try outcome.sweep.get()
        guard result.status == 0 else { throw SweepFailed(stderr: result.stderr) }
        return outcome.folder + "/results.sqlite"
    }

    struct SweepFailed: Error, CustomStringConvertible {
        var stderr: String
        var description: String { "the demo sweep failed: \(stderr)" }
    }
}
