import Foundation
import OffloadSim
import Policies
import Testing
import TestSupport
import TraceStore

@testable import CUDABackend

@Suite struct ReplayLayoutTests {
    /// One prompt of 16,384 tokens over two layers of four 6 MB experts, each token routed to
    /// experts 0 and 1 of layer 0 and 2 and 3 of layer 1, every expert resident; hidden size
    /// 512, so an expert reads as a SwiGLU FFN of width 6,000,000 / (6 × 512) → 1,952.
    static func prefillSchedule(engine: ServingEngine) throws -> (ModelCost, ReplaySchedule) {
        let folder = Repository.temporaryFolder()
        let shape = ModelShape(name: "hand", layers: 2, experts: 4, topK: 2, expertBytes: [6_000_000, 6_000_000])
        let writer = try TraceWriter(path: folder + "/t.sqlite", metadata: TraceMetadata(shape: shape, hasWeights: false, synthetic: false,
                                                                                        source: "test", importer: "test"))
        writer.beginSequence(name: "s")
        for _ in 0..<16_384 { try writer.appendToken(phase: .prefill, ids: [0, 1, 2, 3]) }
        _ = try writer.finish()
        let model = ModelCost(name: "hand", layers: 2, experts: 4, expertBytes: [6_000_000, 6_000_000], expertParameters: 0,
                              attentionParameters: 0, attentionBytes: 500_000, kvBytesPerToken: 0, queryWidth: 0, hiddenSize: 512)
        let profile = HardwareProfile(name: "hand", displayName: "hand", source: "test", hbmGBps: 1_000, peakTFLOPS: 100, memoryGiB: 80,
                                      link: BusLink(gbps: 25, latencyNs: 2_000))
        let run = SimulationRun(source: try TraceReader(path: folder + "/t.sqlite"), model: model, profile: profile,
                                options: SimulationOptions(replaySteps: 8, engine: engine))
        return (model, try run.run(policy: AllResidentPolicy()).replay)
    }

    /// Per token, input max(512, 1,952), gate/up 2 × 1,952, SwiGLU 1,952 and output
    /// max(rows, 512, 2 × 1,952) fp32 values: 46,848 bytes; 16,384 tokens take 767,557,632.
    static let buffersOf16384Tokens = 16_384 * 4 * (1_952 + 2 * 1_952 + 1_952 + 2 * 1_952)

    @Test func theMainActivationBuffersHoldTheLargestOperationsTokens() throws {
        let (model, schedule) = try Self.prefillSchedule(engine: .moesim)
        let layout = try ReplayLayout(schedule: schedule, model: model, memoryBytes: 80 << 30)
        #expect(layout.expertIntermediate == [1_952, 1_952])
        #expect(layout.maxTokens == 16_384 && layout.laneTokens == 16_384)
        #expect(layout.activationRows == 500_000 / 1_024 + 1)
        #expect(layout.activationBytes == Self.buffersOf16384Tokens)
    }

    /// Four streams' lanes each hold a routed expert's 16,384 tokens, and a concurrent group's
    /// two experts run in lanes, not as one launch of 32,768 tokens on the compute stream.
    @Test func aConcurrentStreamsEnginesLanesCountAgainstTheGPUsMemory() throws {
        let (model, schedule) = try Self.prefillSchedule(engine: .replicaStreams)
        let layout = try ReplayLayout(schedule: schedule, model: model, memoryBytes: 80 << 30, expertLanes: 4)
        #expect(layout.maxTokens == 16_384)
        #expect(layout.activationBytes == 5 * Self.buffersOf16384Tokens)
    }

    /// On a GPU of 3 GiB (1 GiB after the replay's 2 GiB of headroom) the lanes' 3.07 GB
    /// cannot fit: the replay says so before it allocates anything, instead of the driver
    /// failing an allocation halfway.
    @Test func aReplayWhoseLanesDoNotFitIsRefusedBeforeAllocating() throws {
        let (model, schedule) = try Self.prefillSchedule(engine: .replicaStreams)
        let driver = try FakeDriver.driver()
        FakeDriver.setTotalMemory(driver, bytes: 3 << 30)
        let context = try CUDAContext(driver: driver)
        let kernels = try MoesimKernels(context: context)
        let before = FakeDriver.calls(driver).count
        let fixed = 2 * 500_000 + 5 * Self.buffersOf16384Tokens
        #expect(throws: CUDAError.outOfMemory(needed: fixed + 6_000_000, available: 1 << 30)) {
            _ = try GPUReplay(context: context, kernels: kernels, model: model, schedule: schedule, engine: .replicaStreams)
        }
        #expect(!FakeDriver.calls(driver).dropFirst(before).contains("cuMemAlloc_v2"))
    }
}
