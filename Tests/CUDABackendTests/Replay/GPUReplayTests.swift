import Foundation
import OffloadSim
import Policies
import Testing
import TestSupport
import TraceStore

@testable import CUDABackend

@Suite struct GPUReplayTests {
    /// Two decode tokens over two layers, top-2, no cache: per step 2 attention ops, 4
    /// experts and 4 staging copies of 1 MB.
    static func schedule(engine: ServingEngine = .moesim, sequences: Int = 1) throws -> (ModelCost, ReplaySchedule) {
        let folder = Repository.temporaryFolder()
        let shape = ModelShape(name: "hand", layers: 2, experts: 4, topK: 2, expertBytes: [1_000_000, 1_000_000])
        let writer = try TraceWriter(path: folder + "/t.sqlite", metadata: TraceMetadata(shape: shape, hasWeights: false, synthetic: false,
                                                                                        source: "test", importer: "test"))
        for sequence in 0..<sequences {
            writer.beginSequence(name: "s\(sequence)")
            for _ in 0..<2 { try writer.appendToken(phase: .decode, ids: [0, 1, 2, 3]) }
        }
        _ = try writer.finish()
        let reader = try TraceReader(path: folder + "/t.sqlite")
        let model = ModelCost(name: "hand", layers: 2, experts: 4, expertBytes: [1_000_000, 1_000_000], expertParameters: 0,
                              attentionParameters: 0, attentionBytes: 500_000, kvBytesPerToken: 0, queryWidth: 0)
        let profile = HardwareProfile(name: "hand", displayName: "hand", source: "test", hbmGBps: 1_000, peakTFLOPS: 100, memoryGiB: 80,
                                      link: BusLink(gbps: 25, latencyNs: 2_000))
        let run = SimulationRun(source: reader, model: model, profile: profile, options: SimulationOptions(replaySteps: 8, engine: engine),
                                batchSize: sequences)
        return (model, try run.run(policy: OnDemandPolicy()).replay)
    }

    /// A replay of `schedule` on a fresh fake driver, and the driver (for its log and clock).
    static func replay(_ model: ModelCost, _ schedule: ReplaySchedule, engine: ServingEngine = .moesim) throws -> (CUDADriver, GPUReplay) {
        let driver = try FakeDriver.driver()
        let context = try CUDAContext(driver: driver)
        return (driver, try GPUReplay(context: context, kernels: try MoesimKernels(context: context), model: model, schedule: schedule,
                                      engine: engine))
    }

    @Test func theReplayMakesTheSimulationsCopiesAndWaitsInItsOrder() throws {
        let (model, schedule) = try Self.schedule()
        let (driver, replay) = try Self.replay(model, schedule)
        let before = FakeDriver.calls(driver).count
        let pass = try replay.run(copies: true)
        #expect(pass.copies == 8 && pass.bytesCopied == 8_000_000)
        #expect(pass.launches == 4 + 8 * MoesimKernels.launchesPerExpert)
        let calls = Array(FakeDriver.calls(driver).dropFirst(before))
        // The first expert's launch comes after a copy and after the compute stream's wait on it.
        let firstCopy = try #require(calls.firstIndex(of: "cuMemcpyHtoDAsync_v2"))
        let launches = calls.indices.filter { calls[$0] == "cuLaunchKernel:moesim_rows_dot" }
        let firstExpert = launches[1]
        #expect(firstCopy < firstExpert)
        #expect(calls[firstCopy..<firstExpert].contains("cuStreamWaitEvent"))
        // On the fake's clocks: per step 4 copies of 2,000 + 1e6/25 ns, 2 attention launches over
        // 61 rows × 4,096 bf16, 4 experts of (80 × 4,096 + 4,096 × 40) bf16 rows and a SwiGLU.
        // In each layer the second expert's copy runs on the copy engine while the first expert
        // computes, so only the second expert adds to the layer: attention, two copies, one expert.
        let attention = 2 * (3_000 + Double(61 * 4_096 * 2) / 1_000)
        let experts = 4 * (3_000 + Double(80 * 4_096 * 2) / 1_000 + 1_000 + 3_000 + Double(4_096 * 40 * 2) / 1_000)
        #expect(pass.stepNs.count == 2)
        #expect(abs(pass.stepNs[1] - (4 * 42_000 + attention + experts / 2)) < 2)
        let computeOnly = try replay.run(copies: false)
        #expect(abs(computeOnly.stepNs[1] - (attention + experts)) < 2)
        #expect(computeOnly.copies == 0)
    }

    /// Under YALIS each layer's two experts run as one grouped kernel after both copies: per
    /// step 2 attention launches and 2 groups of gate/up (2 × 80 rows), SwiGLU and down (2 × 4,096
    /// rows of 40), each group's first operation waiting for its layer's copies.
    @Test func aLayerBarrierEnginesExpertsRunAsOneGroupedKernel() throws {
        let (model, schedule) = try Self.schedule(engine: .yalis)
        #expect(schedule.ops.map(\.groupSize).filter { $0 > 0 } == [2, 2, 2, 2])
        let (driver, replay) = try Self.replay(model, schedule, engine: .yalis)
        let before = FakeDriver.calls(driver).count
        let computeOnly = try replay.run(copies: false)
        #expect(computeOnly.launches == 4 + 4 * MoesimKernels.launchesPerGroup)
        let calls = FakeDriver.calls(driver).dropFirst(before)
        #expect(calls.filter { $0 == "cuLaunchKernel:moesim_grouped_rows_dot" }.count == 8)
        #expect(calls.filter { $0 == "cuLaunchKernel:moesim_swiglu" }.count == 4)
        let attention = 2 * (3_000 + Double(61 * 4_096 * 2) / 1_000)
        let groups = 2 * (3_000 + Double(2 * 80 * 4_096 * 2) / 1_000 + 1_000 + 3_000 + Double(2 * 4_096 * 40 * 2) / 1_000)
        #expect(abs(computeOnly.stepNs[1] - (attention + groups)) < 2)
        let pass = try replay.run(copies: true)
        #expect(pass.copies == schedule.copies.count && pass.launches == computeOnly.launches)
    }

    /// Under a concurrent-streams engine of 4 streams each layer's two experts run on two of
    /// them: the compute stream records the fork, each lane waits for it, launches its expert's
    /// three kernels and records its join, which the compute stream waits for.
    @Test func aConcurrentStreamsEnginesExpertsRunOnItsStreams() throws {
        let (model, schedule) = try Self.schedule(engine: .replicaStreams)
        #expect(schedule.ops.map(\.groupSize).filter { $0 > 0 } == [2, 2, 2, 2])
        let (driver, replay) = try Self.replay(model, schedule, engine: .replicaStreams)
        let before = FakeDriver.calls(driver).count
        let computeOnly = try replay.run(copies: false)
        #expect(computeOnly.launches == 4 + 8 * MoesimKernels.launchesPerExpert)
        // The fake logs each launch twice: as cuLaunchKernel and with the kernel's name.
        let calls = FakeDriver.calls(driver).dropFirst(before).filter { $0 != "cuLaunchKernel" }
        let expert = ["cuLaunchKernel:moesim_rows_dot", "cuLaunchKernel:moesim_swiglu", "cuLaunchKernel:moesim_rows_dot"]
        let lane = ["cuStreamWaitEvent"] + expert + ["cuEventRecord", "cuStreamWaitEvent"]
        let group = ["cuEventRecord"] + lane + lane
        let first = try #require(calls.firstIndex(of: "cuLaunchKernel:moesim_swiglu")) - 3
        #expect(Array(calls[first..<first + group.count]) == group)
        // The fake's compute engine runs one kernel at a time: the same sum as one stream.
        let attention = 2 * (3_000 + Double(61 * 4_096 * 2) / 1_000)
        let experts = 4 * (3_000 + Double(80 * 4_096 * 2) / 1_000 + 1_000 + 3_000 + Double(4_096 * 40 * 2) / 1_000)
        #expect(abs(computeOnly.stepNs[1] - (attention + experts)) < 2)
    }

    /// One prefill step of 4 tokens over one layer: attention, then expert 0's tokens split
    /// between its own weights (2) and its replica 1 (2), which a copy made after the
    /// attention brought, and expert 1's 4 tokens, on the engine's streams.
    static func replicatedSchedule() -> (ModelCost, ReplaySchedule) {
        let model = ModelCost(name: "hand", layers: 1, experts: 4, expertBytes: [1_000_000], expertParameters: 0, attentionParameters: 0,
                              attentionBytes: 500_000, kvBytesPerToken: 0, queryWidth: 0)
        func expert(_ id: Int) -> ReplaySchedule.Kernel { .expert(layer: 0, expert: id, key: id, staging: -1, onCPU: false) }
        let ops: [ReplaySchedule.ComputeOp] = [
            .init(kernel: .attention(layer: 0, bytes: 500_000), tokens: 4, start: 0, end: 0, work: 0),
            .init(kernel: expert(0), tokens: 2, waitsForCopies: [0], start: 0, end: 0, work: 0, groupSize: 3),
            .init(kernel: expert(0), tokens: 2, start: 0, end: 0, work: 0, replica: 1),
            .init(kernel: expert(1), tokens: 4, start: 0, end: 0, work: 0),
        ]
        let copies = [ReplaySchedule.Copy(bytes: 1_000_000, key: 0, staging: -1, replica: 1, after: 0, prefetch: true, start: 0, end: 0)]
        let steps = [ReplaySchedule.StepSpan(index: 0, decode: false, tokens: 4, produced: 1, firstOp: 0, endOp: 4, start: 0, end: 0)]
        return (model, ReplaySchedule(ops: ops, copies: copies, steps: steps))
    }

    /// A draft model's step of 50 µs before a layer's attention: one launch of the spin
    /// kernel that holds the GPU for the simulated 50,000 ns (on the fake's clock, its
    /// parameter), then the attention.
    @Test func aDraftModelsStepHoldsTheGPUForItsSimulatedTime() throws {
        let (model, replicated) = Self.replicatedSchedule()
        let ops: [ReplaySchedule.ComputeOp] = [.init(kernel: .draft, tokens: 1, start: 0, end: 0, work: 50_000), replicated.ops[0]]
        let steps = [ReplaySchedule.StepSpan(index: 0, decode: true, tokens: 1, produced: 1, firstOp: 0, endOp: 2, start: 0, end: 0)]
        let (driver, replay) = try Self.replay(model, ReplaySchedule(ops: ops, copies: [], steps: steps))
        let before = FakeDriver.calls(driver).count
        let pass = try replay.run(copies: false)
        #expect(pass.launches == 2)
        #expect(FakeDriver.calls(driver).dropFirst(before).filter { $0.hasPrefix("cuLaunchKernel:") }
                    == ["cuLaunchKernel:moesim_spin", "cuLaunchKernel:moesim_rows_dot"])
        #expect(abs(pass.stepNs[0] - (50_000 + 3_000 + Double(61 * 4_096 * 2) / 1_000)) < 2)
    }

    @Test func aReplicaHasASlotOfItsOwn() throws {
        let (model, schedule) = Self.replicatedSchedule()
        let layout = try ReplayLayout(schedule: schedule, model: model, memoryBytes: 1 << 30, expertLanes: 4)
        #expect(layout.slots == 3 && !layout.sharesSlots)
        #expect(Set([layout.slot(ofKey: 0), layout.slot(ofKey: 0, replica: 1), layout.slot(ofKey: 1)]).count == 3)
        #expect(schedule.replicaOps == 1)
    }

    /// The replica's copy goes to its slot, the layer waits for it, and each share is an
    /// expert's three launches on a lane: the copy (2,000 ns + 1 MB / 25) starts after the
    /// attention and the experts after the copy, so the step sums attention, copy and three
    /// experts of (80 × 4,096 + 4,096 × 40) bf16 rows.
    @Test func aReplicatedExpertsSharesRunOnTheEnginesStreams() throws {
        let (model, schedule) = Self.replicatedSchedule()
        let (driver, replay) = try Self.replay(model, schedule, engine: .replicaStreams)
        let before = FakeDriver.calls(driver).count
        let pass = try replay.run(copies: true)
        #expect(pass.copies == 1 && pass.bytesCopied == 1_000_000)
        #expect(pass.launches == 1 + 3 * MoesimKernels.launchesPerExpert)
        let calls = FakeDriver.calls(driver).dropFirst(before).filter { $0 != "cuLaunchKernel" }
        #expect(calls.filter { $0 == "cuLaunchKernel:moesim_swiglu" }.count == 3)
        let attention = 3_000 + Double(61 * 4_096 * 2) / 1_000
        let experts = 3 * (3_000 + Double(80 * 4_096 * 2) / 1_000 + 1_000 + 3_000 + Double(4_096 * 40 * 2) / 1_000)
        #expect(abs(pass.stepNs[0] - (42_000 + attention + experts)) < 2)
    }

    /// The demo trace under YALIS on the fake driver: a longer KV cache makes every attention
    /// launch read more, in the simulation and in the replay alike.
    @Test func validateReplaysAnEngineAtAGivenContext() throws {
        func figures(_ extra: [String]) throws -> [String: (simulated: Double, measured: Double)] {
            let run = try CLI.run(["gpu", "validate", "--trace", Repository.root + "/traces/demo.sqlite", "--profile", "h100-sxm",
                                   "--engine", "yalis", "--steps", "4", "--json"] + extra, environment: ["MOESIM_LIBCUDA": FakeDriver.library()])
            #expect(run.status == 0, "\(run.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            let list = try #require((object?["validation"] as? [String: Any])?["figures"] as? [[String: Any]])
            return Dictionary(uniqueKeysWithValues: list.map { ($0["key"] as! String, ($0["simulated"] as! Double, $0["measured"] as! Double)) })
        }
        let prompt = try #require(try figures([])["compute_ms"])
        let long = try #require(try figures(["--context", "4096"])["compute_ms"])
        #expect(long.simulated > prompt.simulated && long.measured > prompt.measured)
    }

    /// The replay issues moesim's driver calls, so the simulation it is compared with prices a
    /// PyTorch engine's host operations at the profile's driver-level figures, not the
    /// profile's PyTorch table, which `simulate` uses.
    @Test func validatePricesAPyTorchEnginesHostOperationsAsTheReplayIssuesThem() throws {
        var profile = try #require(HardwareProfile.preset(named: "h100-sxm"))
        profile.name = "h100-with-pytorch"
        profile.frameworkCosts["pytorch"] = FrameworkHostCosts(launchNs: 10_000, syncNs: 40_000, copyCallNs: 15_000, measuredOn: "a test")
        let file = Repository.temporaryFolder() + "/pytorch.toml"
        try profile.tomlText.write(toFile: file, atomically: true, encoding: .utf8)
        func validate(_ extra: [String], engine: String = "yalis", trace: String = Repository.root + "/traces/demo.sqlite") throws -> (tpot: Double, notes: [String]) {
            let run = try CLI.run(["gpu", "validate", "--trace", trace, "--profile", file,
                                   "--engine", engine, "--steps", "4", "--json"] + extra, environment: ["MOESIM_LIBCUDA": FakeDriver.library()])
            #expect(run.status == 0, "\(run.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let figures = try #require((object["validation"] as? [String: Any])?["figures"] as? [[String: Any]])
            let tpot = try #require(figures.first { $0["key"] as? String == "tpot_ms" }?["simulated"] as? Double)
            return (tpot, try #require((object["run"] as? [String: Any])?["notes"] as? [String]))
        }
        let validated = try validate([]), driverLevel = try validate(["--engine-set", "framework=none"])
        #expect(validated.tpot == driverLevel.tpot)
        #expect(validated.notes.contains { $0.hasPrefix("the replay issues moesim's driver calls") })
        let simulated = try CLI.run(["simulate", "--trace", Repository.root + "/traces/demo.sqlite", "--hardware", file, "--engine", "yalis"])
        #expect(simulated.stdout.contains("priced by the profile's [framework.pytorch] (measured on a test): sync 40.0 µs, launch 10.0 µs, copy call 15.0 µs"))
        // An eagerly dispatching engine's kernels are issued at the driver's launch in the replay too.
        let short = try CLI.synthesize(model: "qwen3-30b-a3b", tokens: 48, prefill: 8, decode: 4, seed: 3, level: 1)
        let eager = try validate([], engine: "hf-transformers", trace: short)
        #expect(eager.tpot == (try validate(["--engine-set", "framework=none"], engine: "hf-transformers", trace: short)).tpot)
        let eagerSimulated = try CLI.run(["simulate", "--trace", short, "--hardware", file, "--engine", "hf-transformers"])
        #expect(eagerSimulated.stdout.contains("every kernel dispatched eagerly at that launch"))
    }

    @Test func validateReplaysAConcurrentStreamsEngine() throws {
        let run = try CLI.run(["gpu", "validate", "--trace", Repository.root + "/traces/demo.sqlite", "--profile", "h100-sxm",
                               "--engine", "replica-streams", "--steps", "4"], environment: ["MOESIM_LIBCUDA": FakeDriver.library()])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("engine     replica-streams"))
    }

    /// arXiv 2605.11537's replication at batch 4 on a Switch encoder trace: the replay makes
    /// the replica copies the simulation made (the same bytes) and runs the replicas' shares.
    @Test func validateReplaysAReplicationPolicysReplicas() throws {
        let trace = try CLI.synthesize(model: "switch-base-128-encoder", tokens: 2_048, prefill: 512, decode: 0, seed: 1, level: 1)
        let arguments = ["gpu", "validate", "--trace", trace, "--profile", "h100-sxm", "--expert-dtype", "bf16", "--engine", "replica-streams",
                         "--policy", Repository.root + "/reproductions/policies/2605.11537-replication.toml", "--batch", "4", "--steps", "1"]
        let text = try CLI.run(arguments, environment: ["MOESIM_LIBCUDA": FakeDriver.library()])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("6 expert kernels ran on replicas"))
        let json = try CLI.run(arguments + ["--json"], environment: ["MOESIM_LIBCUDA": FakeDriver.library()])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let figures = try #require((object["validation"] as? [String: Any])?["figures"] as? [[String: Any]])
        let bytes = try #require(figures.first { $0["key"] as? String == "bytes_moved" })
        #expect(bytes["simulated"] as? Int == 792_723_456 && bytes["measured"] as? Int == 792_723_456)
    }

    @Test func validateReplaysSpeculativeDecodingsDraftSteps() throws {
        let run = try CLI.run(["gpu", "validate", "--trace", Repository.root + "/traces/demo.sqlite", "--profile", "h100-sxm",
                               "--policy", "speculative-decoding", "--steps", "3"], environment: ["MOESIM_LIBCUDA": FakeDriver.library()])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("policy     speculative-decoding"))
    }

    /// A profile calibrated on the fake driver, for DeepSeek-V2-Lite's and Switch-base-128's
    /// experts. `gpu calibrate` times the host's calls on this machine's clock, which varies with
    /// its load, while the fake never holds GPU work back for the host: the host terms are set to 0.
    static let fakeProfile: String = {
        let path = Repository.temporaryFolder() + "/fake.toml"
        let calibrate = try! CLI.run(["gpu", "calibrate", "--model", "deepseek-v2-lite", "--model", "switch-base-128-encoder", "-o", path],
                                     environment: ["MOESIM_LIBCUDA": FakeDriver.library()])
        precondition(calibrate.status == 0, calibrate.stderr)
        let text = try! String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("copy_call_ns =") || line.hasPrefix("sync_after_kernel_ns =") ? line.prefix { $0 != "=" } + "= 0" : line
        }
        try! text.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }()

    /// Every figure of `gpu validate --json` with `arguments` on the fake driver, as (simulated, measured).
    static func validation(_ arguments: [String]) throws -> [String: (simulated: Double, measured: Double)] {
        let run = try CLI.run(["gpu", "validate", "--profile", Self.fakeProfile, "--json"] + arguments,
                              environment: ["MOESIM_LIBCUDA": FakeDriver.library()])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let figures = try #require((object["validation"] as? [String: Any])?["figures"] as? [[String: Any]])
        var result: [String: (simulated: Double, measured: Double)] = [:]
        for figure in figures {
            let key = try #require(figure["key"] as? String)
            result[key] = (try #require((figure["simulated"] as? NSNumber)?.doubleValue), try #require((figure["measured"] as? NSNumber)?.doubleValue))
        }
        return result
    }

    /// The closed loop the fake driver allows: its copy engine and compute engine overlap as
    /// the simulation's bus and compute stream do, so a profile calibrated on it predicts what
    /// the replay measures on it — a wait the replay missed or added, or a copy in the wrong
    /// order, would show as an error. On-demand with a 4 GiB LRU cache on the demo trace.
    @Test func aProfileCalibratedOnTheFakeDriverPredictsItsReplay() throws {
        let figures = try Self.validation(["--trace", Repository.root + "/traces/demo.sqlite", "--cache-mib", "4096", "--steps", "16"])
        #expect(figures.count == 4)
        for (key, figure) in figures { #expect(abs(figure.measured - figure.simulated) <= 1e-3 * abs(figure.simulated), "\(key)") }
        #expect(figures["stall_share"]!.measured > 0.5)
    }

    /// The same loop through ProMoE's chunked prefetches (1 MiB chunks; a demand copy takes the
    /// engine at a chunk boundary): the replay makes each chunk a copy of its own, in the order
    /// the simulation moved them. Replayed whole, each prefetch moved after the demand copies that
    /// had overtaken it, and TPOT read 0.7% above the simulation's.
    @Test func theFakeDriversReplayOfChunkedPrefetchesMatchesTheSimulation() throws {
        let figures = try Self.validation(["--trace", Repository.root + "/traces/demo.sqlite", "--policy", "promoe", "--cache-mib", "4096",
                                           "--steps", "16"])
        #expect(figures.count == 4)
        for (key, figure) in figures { #expect(abs(figure.measured - figure.simulated) <= 1e-3 * abs(figure.simulated), "\(key)") }
    }

    /// The same loop through llama.cpp's GPU path at batch 32, where every step reaches its
    /// 32-token threshold: runs of expert ids copied as one call per weight tensor into a buffer
    /// holding the layer, from pageable memory (the fake moves it at 12.5 GB/s and the profile
    /// calibrated on it says so), the host's syncs between weight tensors.
    @Test func theFakeDriversReplayOfLlamaCppsGPUPathMatchesTheSimulation() throws {
        let trace = try CLI.synthesize(model: "qwen3-30b-a3b", tokens: 320, prefill: 4, decode: 6, seed: 1)
        let figures = try Self.validation(["--trace", trace, "--engine", "llama-cpp", "--batch", "32", "--steps", "4"])
        let tpot = try #require(figures["tpot_ms"])
        #expect(abs(tpot.measured - tpot.simulated) <= 1e-3 * tpot.simulated, "\(tpot)")
        #expect(figures["bytes_moved"]!.measured == figures["bytes_moved"]!.simulated)
    }

    /// The same loop through arXiv 2605.11537's replication at batch 4: replica copies made
    /// as the simulation made them and replicas' shares on the engine's four streams.
    @Test func theFakeDriversReplayOfReplicasMatchesTheSimulation() throws {
        let trace = try CLI.synthesize(model: "switch-base-128-encoder", tokens: 2_048, prefill: 512, decode: 0, seed: 1, level: 1)
        let figures = try Self.validation(["--trace", trace, "--expert-dtype", "bf16", "--engine", "replica-streams", "--batch", "4",
                                           "--policy", Repository.root + "/reproductions/policies/2605.11537-replication.toml", "--steps", "1"])
        #expect(figures.count == 4)
        for (key, figure) in figures {
            // Shares within a point; times and bytes within 1%: the fake's kernel times ignore
            // tokens, the simulation's roofline does not (2,048 tokens a step here: +0.5%).
            let tolerance = key == "stall_share" ? 0.01 : 0.01 * abs(figure.simulated)
            #expect(abs(figure.measured - figure.simulated) <= tolerance, "\(key): \(figure)")
        }
    }

    @Test func validateReplaysABatch() throws {
        let run = try CLI.run(["gpu", "validate", "--trace", Repository.root + "/traces/demo.sqlite", "--profile", "h100-sxm",
                               "--batch", "4", "--steps", "6"], environment: ["MOESIM_LIBCUDA": FakeDriver.library()])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("first 6 steps (5 decode) at batch 4"))
    }

    @Test func theReportComparesSimulatedWithMeasuredPerToken() throws {
        let (_, schedule) = try Self.schedule()
        let simulated = schedule.steps.map { Double($0.end - $0.start) }
        let compute = schedule.steps.map { step in schedule.ops[step.firstOp..<step.endOp].reduce(0.0) { $0 + Double($1.work) } }
        let measured = GPUReplay.Pass(stepNs: simulated.map { $0 * 1.25 }, layerNs: simulated.map { [$0 / 2, $0 / 2] }, bytesCopied: 8_000_000,
                                      copies: 8, launches: 0)
        let alone = GPUReplay.Pass(stepNs: compute, layerNs: [], bytesCopied: 0, copies: 0, launches: 0)
        let report = ValidationReport(schedule: schedule, replay: measured, computeOnly: alone)
        let tpot = try #require(report.figures.first { $0.key == "tpot_ms" })
        #expect(abs(tpot.errorPercent! - -20) < 1e-9)
        #expect(abs(tpot.simulated - simulated.reduce(0, +) / 2 / 1e6) < 1e-12)
        let stall = try #require(report.figures.first { $0.key == "stall_share" })
        #expect(abs(stall.measured - (1 - (1 - stall.simulated) / 1.25)) < 1e-9)
        #expect(report.figures.first { $0.key == "bytes_moved" }?.errorPercent == 0)
        #expect(report.steps == 2 && report.decodeSteps == 2 && report.tokens == 2)
    }

    /// Two sequences decoded together: each step gives each of them one token (a step's
    /// `produced` counts tokens per sequence), so TPOT is the steps' mean time, not half of it.
    @Test func aBatchsTPOTIsItsDecodeStepsTime() throws {
        let (_, schedule) = try Self.schedule(sequences: 2)
        let steps = schedule.steps.map { Double($0.end - $0.start) }
        #expect(schedule.steps.count == 2 && schedule.steps.allSatisfy { $0.decode && $0.tokens == 2 && $0.produced == 1 })
        let pass = GPUReplay.Pass(stepNs: steps, layerNs: steps.map { [$0 / 2, $0 / 2] }, bytesCopied: 0, copies: 0, launches: 0)
        let report = ValidationReport(schedule: schedule, replay: pass, computeOnly: pass)
        let tpot = try #require(report.figures.first { $0.key == "tpot_ms" })
        #expect(abs(tpot.simulated - steps.reduce(0, +) / 2 / 1e6) < 1e-12)
    }

    @Test func schedulesWithCPUExpertsAreRefused() throws {
        let schedule = ReplaySchedule(ops: [.init(kernel: .expert(layer: 0, expert: 0, key: 0, staging: -1, onCPU: true), tokens: 1,
                                                  start: 0, end: 0, work: 0)],
                                      copies: [], steps: [])
        let context = try CUDAContext(driver: try FakeDriver.driver())
        let model = ModelCost(name: "m", layers: 1, experts: 1, expertBytes: [1_000_000], expertParameters: 0, attentionParameters: 0,
                              attentionBytes: 0, kvBytesPerToken: 0, queryWidth: 0)
        #expect(throws: ReplayError.self) {
            _ = try GPUReplay(context: context, kernels: try MoesimKernels(context: context), model: model, schedule: schedule)
        }
    }
}
