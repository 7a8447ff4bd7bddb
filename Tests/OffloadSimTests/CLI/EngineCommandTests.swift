import Foundation
import TestSupport
import Testing

/// `--engine`, `--context`, `--cache-mib auto`, the memory check and `moesim engines`, as a user meets them.
@Suite("Engines, context and GPU memory on the command line")
struct EngineCommandTests {
    static let demo = Repository.root + "/traces/demo.sqlite"

    /// A short synthetic Qwen3-30B-A3B trace: 4 sequences of 4 prompt + 6 generated tokens.
    static func qwenTrace() throws -> String {
        try CLI.synthesize(model: "qwen3-30b-a3b", tokens: 40, prefill: 4, decode: 6, seed: 1)
    }

    /// The RTX A6000 preset's file with each of `edits` made, written as `name` in a temporary folder.
    static func a6000(_ name: String, editing edits: [(String, String)]) throws -> String {
        let path = Repository.temporaryFolder() + "/" + name
        try edits.reduce(try String(contentsOfFile: Repository.root + "/hardware/rtx-a6000.toml", encoding: .utf8)) {
            $0.replacingOccurrences(of: $1.0, with: $1.1)
        }.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func json(_ result: CLI.Result) throws -> [String: Any] {
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test("moesim engines lists the engines and --export prints the file in engines/")
    func enginesCommand() throws {
        let listed = try CLI.run(["engines"])
        #expect(listed.status == 0)
        for name in ["moesim", "yalis", "hf-transformers"] { #expect(listed.stdout.contains(name)) }
        let exported = try CLI.run(["engines", "--export", "yalis"])
        #expect(exported.stdout == (try String(contentsOfFile: Repository.root + "/engines/yalis.toml", encoding: .utf8)))
    }

    @Test("--engine-set runs as the same line edited in the engine file, and the result names what was set")
    func engineSetMatchesAnEditedFile() throws {
        let trace = try Self.qwenTrace()
        let file = Repository.temporaryFolder() + "/llama-gpu.toml"
        let llama = try String(contentsOfFile: Repository.root + "/engines/llama-cpp.toml", encoding: .utf8)
        try llama.replacingOccurrences(of: "cpu_experts_below_tokens = 32 ", with: "cpu_experts_below_tokens = 0 ")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let edited = try Self.json(try CLI.run(["simulate", "--trace", trace, "--engine", file, "--json"]))
        let set = try Self.json(try CLI.run(["simulate", "--trace", trace, "--engine", "llama-cpp", "--engine-set", "cpu_experts_below_tokens=0", "--json"]))
        let plain = try Self.json(try CLI.run(["simulate", "--trace", trace, "--engine", "llama-cpp", "--json"]))
        let tpot = try #require(set["tpot_ms"] as? Double)
        #expect(tpot == edited["tpot_ms"] as? Double && set["cpu_experts"] as? Int == 0)
        #expect(tpot != plain["tpot_ms"] as? Double && (plain["cpu_experts"] as? Int ?? 0) > 0)
        let engine = try #require((set["run"] as? [String: Any])?["engine"] as? String)
        #expect(engine.hasPrefix("llama-cpp (") && engine.hasSuffix("; set: execution.cpu_experts_below_tokens = 0)"), "\(engine)")
    }

    @Test("a run of an engine that copies from pageable memory says at what rate: a profile's pageable figure, else the pinned one as an upper bound")
    func pageableCopiesAreNamed() throws {
        let trace = try Self.qwenTrace()
        let preset = try CLI.run(["simulate", "--trace", trace, "--engine", "llama-cpp", "--hardware", "rtx-4090"])
        #expect(preset.stdout.contains("the engine copies from pageable host memory, but the profile has no pageable_h2d_gbps"), "\(preset.stdout)")
        let file = Repository.temporaryFolder() + "/pageable-4090.toml"
        let exported = try CLI.run(["hardware", "--export", "rtx-4090"]).stdout
        try exported.replacingOccurrences(of: "name = \"rtx-4090\"", with: "name = \"my-4090\"")
            .replacingOccurrences(of: "[host]", with: "pageable_h2d_gbps = 9.5\n\n[host]").write(toFile: file, atomically: true, encoding: .utf8)
        let gpuPath = ["--engine-set", "cpu_experts_below_tokens=0", "--json"]
        let measured = try Self.json(try CLI.run(["simulate", "--trace", trace, "--engine", "llama-cpp", "--hardware", file] + gpuPath))
        let pinned = try Self.json(try CLI.run(["simulate", "--trace", trace, "--engine", "llama-cpp", "--hardware", file,
                                                "--engine-set", "copy_source=pinned"] + gpuPath))
        #expect(try #require(measured["tpot_ms"] as? Double) > (try #require(pinned["tpot_ms"] as? Double)))
        let notes = try #require((measured["run"] as? [String: Any])?["notes"] as? [String])
        #expect(notes.contains("the engine copies from pageable host memory: at the profile's 9.50 GB/s"), "\(notes)")
    }

    @Test("--engine-set refuses a setting the engine file would refuse, naming the option", arguments: [
        ("streams", "'streams' is not KEY=VALUE"),
        ("cache_slots=4", "'cache_slots' names no engine term; valid: experts, grouped_kernel_launches"),
        ("cpu_experts_below_tokens=-3", "'execution.cpu_experts_below_tokens' is -3; valid: 0…1048576"),
        ("copy_grouping=id-run", "'host.copy_grouping' \"id-run\" needs a layer that waits for all of its copies"),
    ])
    func engineSetRefusals(setting: String, message: String) throws {
        let refused = try CLI.run(["simulate", "--trace", Self.demo, "--engine-set", setting])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("--engine-set: " + message), "\(refused.stderr)")
    }

    @Test("an engine file with concurrent streams runs in simulate")
    func concurrentStreamsEngineFile() throws {
        let trace = try Self.qwenTrace()
        let yalis = try String(contentsOfFile: Repository.root + "/engines/yalis.toml", encoding: .utf8)
        func compute(streams: Int) throws -> Double {
            let file = Repository.temporaryFolder() + "/streams-\(streams).toml"
            try yalis.replacingOccurrences(of: "name = \"yalis\"", with: "name = \"yalis-streams\"")
                .replacingOccurrences(of: "experts = \"layer-barrier\"", with: "experts = \"concurrent-streams\"")
                .replacingOccurrences(of: "streams = 1 ", with: "streams = \(streams) ")
                .write(toFile: file, atomically: true, encoding: .utf8)
            return try #require(try Self.json(try CLI.run(["simulate", "--trace", trace, "--engine", file, "--json"]))["compute_ms"] as? Double)
        }
        let barrier = try #require(try Self.json(try CLI.run(["simulate", "--trace", trace, "--engine", "yalis", "--json"]))["compute_ms"] as? Double)
        // Eight memory-bound experts on eight streams run their kernels while the host launches
        // the next ones: shorter than on one stream. But the host issues their 32 launches one
        // after another, longer than the grouped kernel's 5: longer than the layer barrier.
        let eight = try compute(streams: 8), one = try compute(streams: 1)
        #expect(eight < one && eight > barrier)
    }

    @Test("gpu validate refuses what its replay cannot run before it opens a GPU", arguments: [
        (["--engine", "tutel", "--policy", "all-resident"], "runs every expert at capacity"),
        (["--policy", "expert-parallel-replication"], "'expert-parallel-replication' runs the experts on 4 GPUs"),
        (["--policy", "fiddler"], "does not support experts computed on the CPU"),
        (["--engine", "llama-cpp"], "under an engine with a CPU threshold (cpu_experts_below_tokens) a --batch whose steps all reach it"),
    ])
    func validateRefusals(extra: [String], message: String) throws {
        // No CUDA driver on the test machine (or a missing one named): a refusal that opened the GPU would fail otherwise.
        let refused = try CLI.run(["gpu", "validate", "--trace", Repository.root + "/traces/demo.sqlite", "--profile", "h100-sxm"] + extra,
                                  environment: ["MOESIM_LIBCUDA": "/nonexistent/libcuda.so.1"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains(message), "\(refused.stderr)")
    }

    @Test("an expert-parallel run names its own execution model and says an engine passed to it was not applied")
    func expertParallelTakesNoEngine() throws {
        let demo = Repository.root + "/traces/demo.sqlite"
        let yalis = try Self.json(try CLI.run(["simulate", "--trace", demo, "--engine", "yalis", "--policy", "expert-parallel", "--json"]))
        let plain = try Self.json(try CLI.run(["simulate", "--trace", demo, "--policy", "expert-parallel", "--json"]))
        let run = try #require(yalis["run"] as? [String: Any])
        #expect((run["engine"] as? String)?.hasPrefix("expert-parallel model") == true)
        #expect((run["notes"] as? [String])?.contains { $0.hasPrefix("--engine yalis is not applied") } == true)
        #expect(yalis["tpot_ms"] as? Double == plain["tpot_ms"] as? Double)
        // Nor are the engine's prefill chunks: 600-token prompts stay one step each under llama-cpp.
        let long = try CLI.synthesize(model: "deepseek-v2-lite", tokens: 1_204, prefill: 600, decode: 2, seed: 1)
        let llama = try Self.json(try CLI.run(["simulate", "--trace", long, "--engine", "llama-cpp", "--policy", "expert-parallel", "--json"]))
        let whole = try Self.json(try CLI.run(["simulate", "--trace", long, "--policy", "expert-parallel", "--json"]))
        #expect(llama["steps"] as? Int == 2 * 3 && llama["steps"] as? Int == whole["steps"] as? Int)
        #expect(llama["ttft_ms"] as? Double == whole["ttft_ms"] as? Double)
        // Under llama-cpp itself each prompt is two chunks of at most 512 tokens.
        let chunked = try Self.json(try CLI.run(["simulate", "--trace", long, "--engine", "llama-cpp", "--json"]))
        #expect(chunked["steps"] as? Int == 2 * 4)
    }

    @Test("every result names its engine, and an unknown engine is refused with the valid names")
    func engineIsNamed() throws {
        let trace = try Self.qwenTrace()
        let run = try CLI.run(["simulate", "--trace", trace, "--engine", "yalis"])
        #expect(run.stdout.contains("engine     yalis (YALIS, branch offload_prefetch)"))
        let bad = try CLI.run(["simulate", "--trace", trace, "--engine", "vllm-9"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("unknown engine 'vllm-9'") && bad.stderr.contains("Valid engines: moesim, yalis, hf-transformers"))
    }

    @Test("an edited engine file is used: slower copy calls give a longer TPOT")
    func engineFile() throws {
        let trace = try Self.qwenTrace()
        let path = Repository.temporaryFolder() + "/slow-host.toml"
        let exported = try CLI.run(["engines", "--export", "yalis"]).stdout
        try exported.replacingOccurrences(of: "name = \"yalis\"", with: "name = \"slow-host\"")
            .replacingOccurrences(of: "copy_issue_ns = \"copy_call\"", with: "copy_issue_ns = 500000")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let yalis = try Self.json(try CLI.run(["simulate", "--trace", trace, "--engine", "yalis", "--json"]))
        let slow = try Self.json(try CLI.run(["simulate", "--trace", trace, "--engine", path, "--json"]))
        #expect((slow["run"] as? [String: Any])?["engine"] as? String == "slow-host (YALIS, branch offload_prefetch)")
        // The last expert's copy is issued 7.5 ms after the router, not 0.08 ms; its copy takes 0.4 ms,
        // so each of the 48 layers ends about 4.8 ms later than the 3.1 ms of copies it had.
        #expect(try #require(slow["tpot_ms"] as? Double) > #require(yalis["tpot_ms"] as? Double) + 48 * 4)
    }

    /// DeepSpeed ZeRO-3 over Hugging Face's loop fetches each routed expert's matrices when
    /// they run and nothing ahead across MoE layers: the hf-transformers schedule.
    @Test("deepspeed-zero3 runs a routed MoE on the hf-transformers schedule")
    func deepSpeedIsTheHuggingFaceSchedule() throws {
        let trace = try Self.qwenTrace()
        var figures: [[String: Double]] = []
        for engine in ["hf-transformers", "deepspeed-zero3"] {
            let run = try Self.json(try CLI.run(["simulate", "--trace", trace, "--engine", engine, "--cache-mib", "4096", "--json"]))
            figures.append(run.compactMapValues { $0 as? Double })
        }
        #expect(figures[0]["tpot_ms"] != nil && figures[0] == figures[1])
        let onDemand = try Self.json(try CLI.run(["simulate", "--trace", trace, "--cache-mib", "4096", "--json"]))
        #expect(figures[1]["tpot_ms"] != onDemand["tpot_ms"] as? Double)
    }

    @Test("an engine that runs every expert is refused with a policy that offloads them, and compare skips that policy")
    func capacityEngineNeedsEveryExpertResident() throws {
        let trace = try Self.qwenTrace()
        let refused = try CLI.run(["simulate", "--trace", trace, "--engine", "tutel"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("--engine tutel: runs every expert of a layer at capacity, which needs them all resident, but policy 'on-demand' offloads them"))
        let compared = try CLI.run(["compare", "--trace", trace, "--engine", "tutel", "--policies", "on-demand,all-resident", "--hardware", "h100-sxm"])
        #expect(compared.status == 0, "\(compared.stderr)")
        #expect(compared.stdout.contains("not run: on-demand: runs every expert"))
        #expect(compared.stdout.split(separator: "\n").contains { $0.hasPrefix("all-resident ") })
    }

    @Test("a longer context makes decode attention read more KV cache")
    func contextLengthensAttention() throws {
        let trace = try Self.qwenTrace()
        let short = try Self.json(try CLI.run(["simulate", "--trace", trace, "--json"]))
        let long = try Self.json(try CLI.run(["simulate", "--trace", trace, "--context", "65536", "--json"]))
        // 65,536 tokens × 2,048 B × 48 layers = 6.4 GB more read per token at 614 GB/s: about 10 ms.
        let added = try #require(long["tpot_ms"] as? Double) - #require(short["tpot_ms"] as? Double)
        #expect(added > 5 && added < 15)
        let negative = try CLI.run(["simulate", "--trace", trace, "--context=-1"])
        #expect(negative.status == 2 && negative.stderr.contains("--context is -1; valid: 0…1073741824"))
    }

    @Test("--cache-mib auto gives the cache what the run leaves of GPU memory, and says how")
    func autoCache() throws {
        let trace = try Self.qwenTrace()
        let result = try Self.json(try CLI.run(["simulate", "--trace", trace, "--engine", "yalis", "--cache-mib", "auto", "--json"]))
        let run = try #require(result["run"] as? [String: Any])
        let notes = try #require(run["notes"] as? [String])
        #expect(notes.contains { $0.hasPrefix("--cache-mib auto: GPU 48.00 GiB:") && $0.contains("2.25 GiB engine buffers") })
        let cache = try #require(run["cache_bytes"] as? Int)
        // 48 GiB less 2.87 GiB of weights and 2.25 GiB of buffers leaves a little under 43 GiB.
        #expect(cache > 42 << 30 && cache < 43 << 30)
    }

    @Test("a run that does not fit in GPU memory is refused with the figures", arguments: [
        (["--policy", "all-resident"], "every expert resident (54.00 GiB) does not fit on NVIDIA RTX A6000"),
        (["--cache-mib", "47000"], "an expert cache of 45.90 GiB does not fit"),
        (["--policy", "predictive-replication"], "an expert cache of 54.00 GiB and replicas of up to 4.00 GiB does not fit"),
        (["--policy", "predictive-replication", "--cache-mib", "44000"], "Give --cache-mib and the policy file's replication.memory_mib that add up to"),
        (["--cache-mib", "1e13"], "--cache-mib is 10000000000000.0; valid: above 0 up to 1099511627776"),
        (["--cache-gb", "inf"], "--cache-gb is inf; valid: above 0"),
    ])
    func doesNotFit(arguments: [String], message: String) throws {
        let trace = try Self.qwenTrace()
        let result = try CLI.run(["simulate", "--trace", trace] + arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("a profile that gives no GPU memory is refused by name, with the fix")
    func profileWithoutMemory() throws {
        let trace = try Self.qwenTrace()
        let hardware = try Self.a6000("no-memory.toml", editing: [("name = \"rtx-a6000\"", "name = \"calibrated-gpu\""),
                                                                  ("memory_gib = 48.0", "memory_gib = 0.0")])
        let result = try CLI.run(["simulate", "--trace", trace, "--hardware", hardware])
        #expect(result.status == 2)
        #expect(result.stderr.contains("the hardware profile 'calibrated-gpu' gives no GPU memory (gpu.memory_gib = 0)"), "\(result.stderr)")
        #expect(result.stderr.contains("Set memory_gib under [gpu]"))
        #expect(result.stdout.isEmpty)
    }

    @Test("every expert resident needs no engine buffers: it fits where the experts fit, whatever the engine")
    func residentExpertsNeedNoBuffers() throws {
        let trace = try Self.qwenTrace()
        // 58 GiB: Qwen3-30B-A3B's 54 GiB of experts and 2.87 GiB of other weights fit, but not
        // with YALIS's two buffer sets of a whole layer's experts (2.25 GiB) beside them.
        let hardware = try Self.a6000("a6000-58.toml", editing: [("memory_gib = 48.0", "memory_gib = 58.0")])
        let resident = try CLI.run(["simulate", "--trace", trace, "--engine", "yalis", "--hardware", hardware, "--policy", "all-resident"])
        #expect(resident.status == 0, "\(resident.stderr)")
        let cached = try CLI.run(["simulate", "--trace", trace, "--engine", "yalis", "--hardware", hardware, "--cache-mib", "55296"])
        #expect(cached.status == 0, "\(cached.stderr)")
        // A cache one expert short of them all leaves experts to stage: the buffers count again.
        let short = try CLI.run(["simulate", "--trace", trace, "--engine", "yalis", "--hardware", hardware, "--cache-mib", "55000"])
        #expect(short.status == 2)
        #expect(short.stderr.contains("2.25 GiB engine buffers"), "\(short.stderr)")
    }

    @Test("compare runs the policies that fit and lists the ones that do not")
    func compareSkipsWhatDoesNotFit() throws {
        let trace = try Self.qwenTrace()
        let result = try CLI.run(["compare", "--trace", trace, "--policies", "on-demand,all-resident", "--engine", "yalis"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("engine yalis"))
        #expect(result.stdout.contains("not run: all-resident:"))
        #expect(result.stdout.split(separator: "\n").contains { $0.hasPrefix("on-demand ") })
    }
}
