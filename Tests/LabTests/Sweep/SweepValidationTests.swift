import Foundation
import Lab
import TestSupport
import Testing

/// A sweep checks every value and every point before it writes anything (issue 18): a bad
/// spec leaves no results file, and errors name the spec's key and line, not a CLI flag.
@Suite("Sweep input checks")
struct SweepValidationTests {
    static let demo = Repository.root + "/traces/demo.sqlite"

    /// A spec over the demo trace with `grid` as its [grid] table, in a fresh folder.
    static func spec(_ grid: String, extra: String = "") -> (folder: String, spec: String) {
        let folder = Repository.temporaryFolder()
        let path = folder + "/spec.toml"
        let text = "name = \"edge\"\n\(extra)[base]\ntrace = \"\(demo)\"\n[grid]\n\(grid)\n"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return (folder, path)
    }

    /// Runs a sweep of `grid` and checks the refusal: status 2, `message`, and nothing but
    /// the spec in its folder. Returns standard error.
    @discardableResult
    static func expectRefusal(grid: String, saying message: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let (folder, spec) = Self.spec(grid)
        let result = try CLI.run(["sweep", spec, "-o", folder + "/results.sqlite", "--jobs", "1"])
        #expect(result.status == 2, sourceLocation: sourceLocation)
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["spec.toml"], sourceLocation: sourceLocation)
        return result.stderr
    }

    @Test("a value outside its range is refused at its line with the range, and no results file appears", arguments: [
        ("batch = [0]", "spec.toml: line 5: 'grid.batch' is 0; valid: 1…65536"),
        ("cache_mib = [-100]", "spec.toml: line 5: 'grid.cache_mib' is -100.0; valid: 0…1099511627776"),
        ("cache_fraction = [1.5]", "'grid.cache_fraction' is 1.5; valid: 0…1"),
        ("cache_fraction = [-0.1]", "'grid.cache_fraction' is -0.1; valid: 0…1"),
        ("bus_gbps = [1e-300]", "'grid.bus_gbps' is 1e-300; valid: 0.001…1000000"),
        ("copy_latency_ns = [9.2e18]", "'grid.copy_latency_ns' is 9.2e+18; valid: 0…1000000000"),
        ("seed = [-1]", "'grid.seed' is -1; valid: 0…2^63−1"),
        ("lookahead = [0]", "'grid.lookahead' is 0; valid: 1…4096"),
        ("host_expert_layers = [5000]", "'grid.host_expert_layers' is 5000; valid: 0…4096"),
        ("prefill_chunk_tokens = [0]", "'grid.prefill_chunk_tokens' is 0; valid: 1…1048576"),
        ("host_memory_gbps = [0]", "'grid.host_memory_gbps' is 0.0; valid: 0.001…1000000"),
    ])
    func outOfRange(grid: String, message: String) throws {
        try Self.expectRefusal(grid: grid, saying: message)
    }

    @Test("a point that cannot be set up names the spec key and line, not a CLI flag, and writes nothing", arguments: [
        ("engine = [\"yalis\", \"nope\"]", "spec.toml: line 5 (grid.engine): unknown engine 'nope' at point 1"),
        ("cache_mib = [0.5]", "spec.toml: line 5 (grid.cache_mib): a cache of 512.00 KiB holds less than one expert"),
        ("policy = [\"cross-layer-gate\"]\nlookahead = [1, 30]", "spec.toml: line 6 (grid.lookahead): is 30, but deepseek-v2-lite has 26 MoE layers"),
        ("engine_set = [\"\", \"expert_sink_ns=0\"]", "spec.toml: line 5 (grid.engine_set): 'expert_sink_ns' names no engine term; valid: experts,"),
        ("engine_set = [\"copy_grouping\"]", "spec.toml: line 5 (grid.engine_set): 'copy_grouping' is not KEY=VALUE at point 0"),
        ("engine_set = [\"copy_grouping=by-layer\"]", "spec.toml: line 5 (grid.engine_set): 'host.copy_grouping' is 'by-layer'; valid: expert, id-run at point 0"),
        ("engine_set = [\"host_expert_layers = 4\"]\nhost_expert_layers = [0]",
         "spec.toml: line 5 (grid.engine_set): 'host_expert_layers = 4' sets a term the point's host_expert_layers also sets"),
    ])
    func badPoint(grid: String, message: String) throws {
        let stderr = try Self.expectRefusal(grid: grid, saying: message)
        #expect(!stderr.contains("--engine") && !stderr.contains("--cache-mib"), "stderr: \(stderr)")
    }

    @Test("after a refused spec, the corrected spec runs into the same results path")
    func correctedSpecRuns() throws {
        let (folder, spec) = Self.spec("batch = [0, 2]")
        let output = folder + "/results.sqlite"
        #expect(try CLI.run(["sweep", spec, "-o", output, "--jobs", "1"]).status == 2)
        _ = FileManager.default.createFile(atPath: spec, contents: Data("name = \"edge\"\n[base]\ntrace = \"\(Self.demo)\"\n[grid]\nbatch = [1, 2]\n".utf8))
        let fixed = try CLI.run(["sweep", spec, "-o", output, "--jobs", "1"])
        #expect(fixed.status == 0, "stderr: \(fixed.stderr)")
        #expect(fixed.stdout.contains("2 points computed"))
    }

    @Test("a grid above 100,000 points asks for --yes or max_points and says its size")
    func largeGridAsks() throws {
        let seeds = (0..<400).map(String.init).joined(separator: ", ")
        let batches = (1...300).map(String.init).joined(separator: ", ")
        let (folder, spec) = Self.spec("seed = [\(seeds)]\nbatch = [\(batches)]")
        let result = try CLI.run(["sweep", spec, "-o", folder + "/results.sqlite"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("has 120000 points (300 batch × 400 seed)"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("--yes or `max_points = 120000`"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["spec.toml"])

        let (_, capped) = Self.spec("seed = [\(seeds)]\nbatch = [\(batches)]", extra: "max_points = 1000\n")
        let over = try CLI.run(["sweep", capped, "-o", folder + "/results.sqlite"])
        #expect(over.status == 2 && over.stderr.contains("line 2: the grid has 120000 points, more than its max_points 1000"), "\(over.stderr)")
    }

    @Test("the results database may not be the spec or a trace of the sweep")
    func outputIsAnInput() throws {
        let (folder, spec) = Self.spec("batch = [1]")
        let before = FolderSnapshot(folder)
        let result = try CLI.run(["sweep", spec, "-o", spec])
        #expect(result.status == 2 && result.stderr.contains("is also an input"), "\(result.stderr)")
        #expect(FolderSnapshot(folder) == before)
    }
}
