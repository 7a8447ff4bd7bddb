import Foundation
import TestSupport
import Testing

@Suite("moesim simulate")
struct SimulateCommandTests {
    static let demo = Repository.root + "/traces/demo.sqlite"

    @Test("the summary says which trace, hardware profile and policy it assumed")
    func summaryStatesAssumptions() throws {
        let result = try CLI.run(["simulate", "--trace", Self.demo, "--hardware", "t4", "--cache-mib", "1024"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("[SYNTHETIC]"))
        #expect(result.stdout.contains("t4 (preset: NVIDIA T4"))
        #expect(result.stdout.contains("policy     on-demand (predictor: none); cache 1.00 GiB, lru"))
    }

    /// profiles/h100.toml timed deepseek-v2-lite's bf16 experts (16.5 MiB); in fp8 they are half that.
    @Test("a calibrated profile's expert tables time only the bf16 experts they measured, and the run says so")
    func calibratedTablesNeedTheirExperts() throws {
        let profile = Repository.root + "/profiles/h100.toml"
        let fp8 = try CLI.run(["simulate", "--trace", Self.demo, "--hardware", profile, "--expert-dtype", "fp8"])
        #expect(fp8.status == 0, "\(fp8.stderr)")
        #expect(fp8.stdout.contains("the profile's calibrated expert tables for deepseek-v2-lite timed bf16 experts (16.50 MiB); this run's are 8.25 MiB, so the roofline times them"))
        let bf16 = try CLI.run(["simulate", "--trace", Self.demo, "--hardware", profile])
        #expect(bf16.status == 0 && !bf16.stdout.contains("roofline times them"))
    }

    @Test("--json has the documented keys")
    func jsonKeys() throws {
        let result = try CLI.run(["simulate", "--trace", Self.demo, "--json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        for key in ["tpot_ms", "tpot_p99_ms", "ttft_ms", "stall_share", "bus_busy_share", "gpu_busy_share", "model_load_ms", "gpu_busy_share_with_load", "hit_rate", "decode_hit_rate", "bytes_moved", "decisions", "run", "layers"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        let run = try #require(object["run"] as? [String: Any])
        #expect(run["trace_kind"] as? String == "synthetic")
        #expect(run["policy"] as? String == "on-demand")
        #expect(object["decisions"] as? Int == 958_464)
    }

    @Test("the gpu line says at which rate the model's load before the run is priced")
    func modelLoadRate() throws {
        let preset = try CLI.run(["simulate", "--trace", Self.demo, "--policy", "all-resident"])
        #expect(preset.status == 0 && preset.stdout.contains("at the pinned rate, a lower bound: the profile has no pageable one)"))
        let measured = try CLI.run(["simulate", "--trace", Self.demo, "--policy", "all-resident", "--hardware", Repository.root + "/profiles/h200.toml"])
        #expect(measured.status == 0 && measured.stdout.contains("from pageable memory)"))
    }

    @Test("an expert-parallel run leaves the one-GPU busy share out and gives each GPU's utilisation")
    func expertParallelBusyShare() throws {
        let result = try CLI.run(["simulate", "--trace", Self.demo, "--policy", "expert-parallel", "--json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["gpu_busy_share"] is NSNull && object["gpu_busy_share_with_load"] is NSNull && object["model_load_ms"] is NSNull)
        let parallel = try #require(object["expert_parallel"] as? [String: Any])
        #expect((parallel["per_gpu_utilisation"] as? [Double])?.count == 4)
        let text = try CLI.run(["simulate", "--trace", Self.demo, "--policy", "expert-parallel"])
        #expect(!text.stdout.contains("gpu        busy") && text.stdout.contains("GPUs       4: expert utilisation"))
    }

    @Test("--timeline writes trace-event JSON with compute and copy tracks")
    func timeline() throws {
        let output = Repository.temporaryFolder() + "/timeline.json"
        let result = try CLI.run(["simulate", "--trace", Self.demo, "--timeline", output, "--timeline-steps", "2"])
        #expect(result.status == 0)
        let data = try #require(FileManager.default.contents(atPath: output))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let events = try #require(object["traceEvents"] as? [[String: Any]])
        let tracks = Set(events.compactMap { $0["ph"] as? String == "X" ? $0["tid"] as? Int : nil })
        #expect(tracks == [0, 1, 2])
        #expect(events.contains { ($0["name"] as? String)?.contains("attention") == true })
        #expect(!FileManager.default.fileExists(atPath: output + ".partial"))
    }

    @Test("bad input exits 2 with a message that names the fix", arguments: [
        (["--model", "gpt-5"], "Valid models:"),
        (["--hardware", "rtx-9090"], "Valid presets:"),
        (["--policy", "psychic"], "Valid policies:"),
        (["--eviction", "clock"], "Valid rules:"),
        (["--model", "qwen3-30b-a3b"], "has 26 MoE layers × 64 experts, but qwen3-30b-a3b has 48 × 128"),
        (["--cache-mib", "0"], "--cache-mib is 0.0; valid: above 0"),
        (["--cache-mib=-5"], "--cache-mib is -5.0; valid: above 0"),
        (["--cache-mib", "-100"], "--cache-mib is -100.0; valid: above 0"),
        (["--cache-mib", "10"], "holds less than one expert"),
        (["--batch", "0"], "--batch is 0; valid: 1…65536"),
        (["--batch", "1000000000"], "--batch is 1000000000; valid: 1…65536"),
        (["--batch", "-3"], "--batch is -3; valid: 1…65536"),
    ])
    func badInput(arguments: [String], message: String) throws {
        let result = try CLI.run(["simulate", "--trace", Self.demo] + arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
    }

    @Test("a hardware file with a bad key is refused naming the file and line")
    func badProfileFile() throws {
        let folder = Repository.temporaryFolder()
        let path = folder + "/mine.toml"
        let exported = try CLI.run(["hardware", "--export", "rtx-a6000"])
        try exported.stdout.replacingOccurrences(of: "copy_engines = 1", with: "copy_engine = 1").write(toFile: path, atomically: true, encoding: .utf8)
        let result = try CLI.run(["simulate", "--trace", Self.demo, "--hardware", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("mine.toml: line 21: unknown key 'bus.copy_engine'"), "stderr: \(result.stderr)")
    }

    @Test("an edited profile file is used and named in the output")
    func customProfile() throws {
        let folder = Repository.temporaryFolder()
        let path = folder + "/fast.toml"
        let exported = try CLI.run(["hardware", "--export", "rtx-a6000"])
        try exported.stdout.replacingOccurrences(of: "name = \"rtx-a6000\"", with: "name = \"fast-bus\"")
            .replacingOccurrences(of: "h2d_gbps = 25.2", with: "h2d_gbps = 252.0")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let slow = try CLI.run(["simulate", "--trace", Self.demo, "--json"])
        let fast = try CLI.run(["simulate", "--trace", Self.demo, "--hardware", path, "--json"])
        #expect(fast.status == 0)
        #expect(fast.stdout.contains("fast-bus"))
        func tpot(_ text: String) throws -> Double {
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            return try #require(object?["tpot_ms"] as? Double)
        }
        #expect(try tpot(fast.stdout) < tpot(slow.stdout) / 3)
    }

    @Test("moesim table lines up saved results with what each assumed")
    func table() throws {
        let folder = Repository.temporaryFolder()
        let first = try CLI.run(["simulate", "--trace", Self.demo, "--json"])
        try first.stdout.write(toFile: folder + "/a.json", atomically: true, encoding: .utf8)
        let result = try CLI.run(["table", folder + "/a.json"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("on-demand    none       none             synthetic"))
        let broken = try CLI.run(["table", Self.demo])
        #expect(broken.status == 2)
    }
}
