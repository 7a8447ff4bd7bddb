import Foundation
import HostCalibration
import OffloadSim
import TestSupport
import Testing
import TraceStore

/// `host calibrate --ggml` on the fake libggml-cpu, whose virtual clock charges each
/// MUL_MAT_ID 20 µs + 10 µs per token for each of its experts: an expert (gate, up, down)
/// takes 3 × (20 + 10 t) µs at t tokens.
@Suite("ggml expert kernel timing")
struct GGMLExpertKernelTests {
    static let qwen3 = ModelPreset.named("qwen3-30b-a3b")!

    @Test("the table holds the kernel clock's time per expert at each token count, over every expert of the cycled weights")
    func tableFromTheKernelClock() throws {
        let path = FakeGGML.library()
        let library = try GGMLLibrary(path: path)
        let kernel = GGMLExpertKernel(gateUpType: "q4_K", downType: "q6_K", tokens: [1, 2, 4], threads: 2, bytes: 1 << 20, passes: 3)
        var seen: [Int] = []
        let calibration = try kernel.measure(model: Self.qwen3, library: library, cpu: "Test CPU", date: "2026-12-04") { count, _ in seen.append(count) }
        #expect(calibration.table.tokens == [1, 2, 4] && seen == [1, 2, 4])
        #expect(calibration.table.nanoseconds == [90_000, 120_000, 180_000])
        // Q4_K: 144 bytes per 256 weights; Q6_K: 210. Gate and up are 768 rows of 2,048; down 2,048 rows of 768.
        #expect(calibration.expertBytes == 2 * 768 * (2_048 / 256 * 144) + 2_048 * (768 / 256 * 210))
        #expect(calibration.kernel == "ggml MUL_MAT_ID (\(path)), gate/up q4_K, down q6_K, 2 threads reading 1 MiB, median of 3 passes, on Test CPU, 2026-12-04")
        let state = withExtendedLifetime(library) { FakeGGML.state(path) }
        #expect(state.failure == "")
        // One weight set (1 MiB is under one set), 128 / 8 groups of experts, 3 matrices each, passes + 1 runs, 3 token counts.
        #expect(state.ops == 3 * (3 + 1) * 16 * 3)
    }

    @Test("the weights cycled over are at least the bytes asked for")
    func weightsCoverTheBudget() throws {
        let path = FakeGGML.library()
        let expert = 3_059_712, set = 128 * expert
        let kernel = GGMLExpertKernel(gateUpType: "q4_K", downType: "q6_K", tokens: [1], threads: 1, bytes: 2 * set + 1, passes: 1)
        let library = try GGMLLibrary(path: path)
        _ = try kernel.measure(model: Self.qwen3, library: library, cpu: "Test CPU", date: "2026-12-04")
        let state = withExtendedLifetime(library) { FakeGGML.state(path) }
        // Three sets of 128 experts, 16 groups of 8 in each, 3 matrices, one untimed and one timed run.
        #expect(state.ops == 2 * 3 * 16 * 3)
        #expect(state.failure == "")
    }

    @Test("a file that is not ggml's CPU backend, a type ggml lacks and one that needs an importance matrix are refused by name")
    func refusals() throws {
        #expect { try GGMLLibrary(path: FakeGGML.library(withoutClock: true)) } throws: { error in
            (error as? TraceStoreError)?.problem.contains("has no ggml_time_us") == true
        }
        #expect { try GGMLLibrary(path: "/nonexistent/libggml-cpu.so") } throws: { error in
            (error as? TraceStoreError)?.problem.contains("cannot be loaded") == true
        }
        let library = try GGMLLibrary(path: FakeGGML.library())
        #expect { try library.type(named: "q9_K") } throws: { error in (error as? TraceStoreError)?.problem == "has no weight type 'q9_K'" }
        #expect { try library.type(named: "i32") } throws: { error in (error as? TraceStoreError)?.problem == "has no weight type 'i32'" }
        #expect { try library.type(named: "iq2_xxs") } throws: { error in
            (error as? TraceStoreError)?.problem.contains("only with an importance matrix") == true
        }
        #expect(try library.type(named: "q8_0") == 8)
    }

    @Test("an expert whose widths are not whole blocks of the type is refused before anything is timed")
    func partialBlocksRefused() throws {
        // DeepSeek-V2-Lite's experts are 1,408 wide: not whole 256-weight blocks of Q4_K.
        let model = try #require(ModelPreset.named("deepseek-v2-lite"))
        let kernel = GGMLExpertKernel(gateUpType: "q4_K", downType: "q4_K", tokens: [1], threads: 1, bytes: 1 << 20, passes: 1)
        #expect { try kernel.measure(model: model, library: GGMLLibrary(path: FakeGGML.library()), cpu: "Test CPU", date: "2026-12-04") } throws: { error in
            (error as? TraceStoreError)?.problem.contains("not multiples of the types' blocks") == true
        }
    }

    @Test("a profile with a host expert table names it, keeps it through a round trip and stays the preset it was")
    func profileRoundTrip() throws {
        var profile = try #require(HardwareProfile.preset(named: "rtx-4090"))
        let table = try #require(CalibrationTable(tokens: [1, 2, 4], nanoseconds: [90_000, 120_000, 180_000]))
        profile.hostExpertCalibration["qwen3-30b-a3b"] = HostExpertCalibration(table: table, expertBytes: 3_059_712, kernel: "ggml MUL_MAT_ID (x)")
        #expect(profile.label == "rtx-4090 (preset: NVIDIA GeForce RTX 4090, datasheet figures; qwen3-30b-a3b CPU experts timed with ggml MUL_MAT_ID (x))")
        #expect(profile.tomlText.contains("[calibration.host_expert_ffn.qwen3-30b-a3b]"))
        #expect(try HardwareProfile(toml: profile.tomlText, file: "p.toml") == profile)
        let broken = profile.tomlText.replacingOccurrences(of: "expert_bytes = 3059712\n", with: "")
        #expect { try HardwareProfile(toml: broken, file: "p.toml") } throws: { error in
            "\(error)".contains("calibration.host_expert_ffn.qwen3-30b-a3b.expert_bytes")
        }
    }

    @Test("host calibrate --ggml writes the table into the profile, and a run on that model with experts of another size says the roofline times them")
    func commandWritesTheTable() throws {
        let folder = Repository.temporaryFolder()
        let output = folder + "/host.toml"
        let run = try CLI.run(["host", "calibrate", "--hardware", "rtx-4090", "--mib", "16", "--threads", "2", "--fma-rounds", "20000",
                               "--ggml", FakeGGML.library(), "--model", "qwen3-30b-a3b", "--expert-type", "q4_K", "--down-type", "q6_K",
                               "--expert-tokens", "1,2", "-o", output])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("CPU expert  qwen3-30b-a3b at 2 tokens: 120.0 µs"), "\(run.stdout)")
        let profile = try HardwareProfile(toml: String(contentsOfFile: output, encoding: .utf8), file: output)
        let calibration = try #require(profile.hostExpertCalibration["qwen3-30b-a3b"])
        #expect(calibration.table.nanoseconds == [90_000, 120_000] && calibration.expertBytes == 3_059_712)

        let trace = folder + "/q.sqlite"
        _ = try TraceSynthesis.run(.init(model: Self.qwen3, tokens: 64, seed: 1, prefill: 4, decode: 4), output: trace)
        let simulated = try CLI.run(["simulate", "--trace", trace, "--hardware", output, "--engine", "llama-cpp"])
        #expect(simulated.status == 0, "stderr: \(simulated.stderr)")
        #expect(simulated.stdout.contains("the profile's CPU expert table for qwen3-30b-a3b timed experts of 2.92 MiB; this run's are 9.00 MiB"), "\(simulated.stdout)")
    }

    @Test("--ggml without --model or --expert-type, and --model without --ggml, are refused")
    func optionsGoTogether() throws {
        let output = Repository.temporaryFolder() + "/h.toml"
        let lone = try CLI.run(["host", "calibrate", "--hardware", "t4", "--ggml", "/x.so", "--model", "qwen3-30b-a3b", "-o", output])
        #expect(lone.status != 0 && lone.stderr.contains("--ggml needs --model and --expert-type"), "\(lone.stderr)")
        let stray = try CLI.run(["host", "calibrate", "--hardware", "t4", "--model", "qwen3-30b-a3b", "-o", output])
        #expect(stray.status != 0 && stray.stderr.contains("give --ggml too"), "\(stray.stderr)")
        let order = try CLI.run(["host", "calibrate", "--hardware", "t4", "--ggml", "/x.so", "--model", "qwen3-30b-a3b", "--expert-type", "q4_K",
                                 "--expert-tokens", "4,2", "-o", output])
        #expect(order.status != 0 && order.stderr.contains("must be ascending"), "\(order.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
