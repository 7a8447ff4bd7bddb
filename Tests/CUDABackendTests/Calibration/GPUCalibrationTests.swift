import Foundation
import OffloadSim
import Testing
import TestSupport
import TraceStore

@testable import CUDABackend

@Suite struct GPUCalibrationTests {
    /// A calibration on the fake driver, whose clock moves copies at 25 GB/s after 2,000 ns,
    /// weight-streaming launches at 1,000 GB/s after 3,000 ns, SwiGLU in 1,000 ns and an empty launch in 3,000 ns.
    /// Its host clock takes 1,000 ns per call and waits for the GPU at each sync.
    static func measure() throws -> CalibrationMeasurements {
        let driver = try FakeDriver.driver()
        let context = try CUDAContext(driver: driver)
        let kernels = try MoesimKernels(context: context)
        let plan = CalibrationPlan(models: [ModelPreset.named("qwen3-30b-a3b")!], copySizes: [4_096, 1 << 20, 16 << 20, 64 << 20],
                                   tokenCounts: [1, 4], groupedExpertCounts: [1, 2, 256], concurrentStreams: [1, 2, 8], groupedMaxTokens: 4)
        return try GPUCalibration(context: context, kernels: kernels, plan: plan, hostClock: FakeDriver.hostClock(driver)).measure()
    }

    @Test func theBusFitRecoversTheDriversBandwidthAndLatency() throws {
        let measured = try Self.measure()
        #expect(abs(measured.h2dGBps - 25) < 0.01)
        #expect(abs(measured.copyLatencyNs - 2_000) < 5)
        #expect(abs(measured.copies[16 << 20]! - (2_000 + Double(16 << 20) / 25)) < 50)
    }

    @Test func launchGapStreamingRateAndExpertCurveComeFromTheKernelTimes() throws {
        let measured = try Self.measure()
        #expect(abs(measured.launchGapNs - 3_000) < 1)
        // 64 MiB read as 8,192 rows of 4,096 bf16: 3,000 ns + 67,108,864 / 1,000 ns.
        #expect(abs(measured.streamGBps - Double(64 << 20) / (3_000 + Double(64 << 20) / 1_000)) < 0.5)
        // Qwen3's expert: 1,536 × 2,048 then 2,048 × 768 bf16 rows, plus SwiGLU.
        let expert = 3_000 + Double(1_536 * 2_048 * 2) / 1_000 + 1_000 + 3_000 + Double(2_048 * 768 * 2) / 1_000
        let table = try #require(measured.experts["qwen3-30b-a3b"])
        #expect(table.tokens == [1, 4])
        #expect(abs(table.nanoseconds[0] - expert) < 5)
        #expect(measured.gpuName == "Fake NVIDIA H100 PCIe" && measured.driverCUDA == "13.0")
    }

    /// A round trip: the launch, the copy call and the stream sync (1,000 host ns each), the
    /// sync waiting for the GPU's 3,000 ns kernel and 2,000 + 64 / 25 ns copy; less the kernel's 3,000.
    @Test func theSyncAfterAKernelIsTheHostRoundTripLessTheKernel() throws {
        let sync = try #require(try Self.measure().syncAfterKernelNs)
        let roundTrip: Double = 3 * 1_000 + 3_000 + 2_000 + 64.0 / 25
        #expect(abs(sync - (roundTrip - 3_000)) < 1e-6)
    }

    @Test func aCopyCallCostsTheHostWhatTheDriverCallTakes() throws {
        #expect(try Self.measure().copyCallNs == 1_000)
    }

    /// Qwen3's expert in groups: gate/up (3,000 + E × 1,536 × 2,048 × 2 / 1,000), SwiGLU
    /// (1,000), down (3,000 + E × 2,048 × 768 × 2 / 1,000); the fake's kernels do not depend on
    /// tokens. 256 experts is more than Qwen3 has; 2 experts × 4 tokens is over the plan's 4.
    @Test func theGroupedKernelIsMeasuredForEachExpertCountWithinThePlan() throws {
        let grouped = try #require(try Self.measure().grouped["qwen3-30b-a3b"])
        #expect(grouped.expertCounts == [1, 2])
        #expect(grouped.tables[0].tokens == [1, 4] && grouped.tables[1].tokens == [1])
        let weightBytes: Double = 1_536 * 2_048 * 2 + 2_048 * 768 * 2
        func expected(_ experts: Double) -> Double { 7_000 + experts * weightBytes / 1_000 }
        #expect(abs(grouped.time(experts: 1, tokens: 1) - expected(1)) < 5)
        #expect(abs(grouped.time(experts: 2, tokens: 1) - expected(2)) < 5)
    }

    /// The fake's compute engine runs one kernel at a time, so k experts on k streams take k
    /// experts' time: 8 streams × 1 token is over the plan's 4 tokens.
    @Test func expertsOnConcurrentStreamsAreTimedFromTheForkToTheLastJoin() throws {
        let concurrent = try #require(try Self.measure().concurrent["qwen3-30b-a3b"])
        #expect(concurrent.expertCounts == [1, 2])
        let expert: Double = 3_000 + 1_536 * 2_048 * 2 / 1_000 + 1_000 + 3_000 + 2_048 * 768 * 2 / 1_000
        #expect(abs(concurrent.time(experts: 1, tokens: 4) - expert) < 5)
        #expect(abs(concurrent.time(experts: 2, tokens: 1) - 2 * expert) < 5)
    }

    /// Queued behind a spin kernel, the same points time the GPU alone: on the fake, whose GPU
    /// does not wait for the host's issue, the same serial times.
    @Test func expertsOnConcurrentStreamsAreTimedWithTheGPUAloneToo() throws {
        let measured = try Self.measure()
        let alone = try #require(measured.concurrentGPU["qwen3-30b-a3b"])
        let issued = try #require(measured.concurrent["qwen3-30b-a3b"])
        #expect(alone.expertCounts == [1, 2] && alone.tables.map(\.tokens) == issued.tables.map(\.tokens))
        let expert: Double = 3_000 + 1_536 * 2_048 * 2 / 1_000 + 1_000 + 3_000 + 2_048 * 768 * 2 / 1_000
        #expect(abs(alone.time(experts: 2, tokens: 1) - 2 * expert) < 5)
    }

    /// The fake moves copies from memory it did not pin at 12.5 GB/s after 2,000 ns, pinned ones at 25.
    @Test func copiesFromPageableMemoryAreFittedApartFromPinnedOnes() throws {
        let measured = try Self.measure()
        #expect(abs(try #require(measured.pageableH2DGBps) - 12.5) < 0.01)
        #expect(abs(measured.h2dGBps - 25) < 0.01)
    }

    /// The fake times a kernel by the bytes it reads, not its tokens: the table is flat here
    /// (on a GPU, moesim's CUDA-core kernel grows with tokens), over every token count of the plan.
    @Test func theAttentionBlockIsTimedAgainstTokens() throws {
        let measured = try Self.measure()
        let table = try #require(measured.attentionTokens["qwen3-30b-a3b"])
        #expect(table.tokens == [1, 4])
        #expect(table.nanoseconds.allSatisfy { $0 == table.nanoseconds[0] } && table.nanoseconds[0] > 0)
        #expect(measured.profile(date: "2026-12-04").attentionTokenCalibration["qwen3-30b-a3b"] == table)
    }

    /// Each size from 64 KiB to 64 MiB is timed: the fake's 2,000 ns plus the bytes at 12.5 GB/s.
    @Test func copiesFromPageableMemoryAreTimedAtEachSize() throws {
        let measured = try Self.measure()
        let sizes: [Int] = [65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864]
        #expect(measured.pageableCopies.keys.sorted() == sizes)
        for (bytes, ns) in measured.pageableCopies {
            let expected = 2_000 + Double(bytes) / 12.5
            #expect(abs(ns - expected) < 1, "\(bytes) B")
        }
        let table = try #require(measured.profile(date: "2026-12-04").measuredPageableCopies)
        #expect(table.tokens == measured.pageableCopies.keys.sorted())
    }

    @Test func theProfileCarriesTheMeasuredEngineTerms() throws {
        let measured = try Self.measure()
        let profile = measured.profile(date: "2026-12-03")
        #expect(profile.syncAfterKernelNs == 5_003 && profile.copyCallNs == 1_000)
        #expect(profile.pageableH2DGBps == measured.pageableH2DGBps && profile.tomlText.contains("pageable_h2d_gbps = 12.5"))
        #expect(profile.groupedCalibration == measured.grouped && profile.concurrentCalibration == measured.concurrent)
        #expect(profile.tomlText.contains("[calibration.concurrent_ffn.qwen3-30b-a3b.streams_2]"))
        #expect(profile.concurrentGPUCalibration == measured.concurrentGPU)
        // The fake's host clock: 1,000 ns a driver call, an event record or a stream wait alike.
        #expect(measured.streamEventNs == 1_000 && profile.streamEventNs == 1_000 && profile.tomlText.contains("stream_event_ns = 1000"))
        #expect(profile.tomlText.contains("[calibration.concurrent_ffn_gpu.qwen3-30b-a3b.streams_2]"))
        // yalis's router sync, a sync and a launch, is now the measured 5,003 + 3,000 ns.
        #expect(ServingEngine.yalis.routerSync.nanoseconds(on: profile) == 8_003)
        #expect(try HardwareProfile(toml: profile.tomlText, file: "calibrated.toml") == profile)
    }

    @Test func theProfileTakesDatasheetFiguresFromTheMatchingPresetAndRoundTrips() throws {
        let measured = try Self.measure()
        let profile = measured.profile(date: "2026-11-22")
        #expect(profile.name == "calibrated-h100-pcie")
        #expect(profile.hbmGBps == HardwareProfile.preset(named: "h100-pcie")!.hbmGBps)
        #expect(profile.link.copyEngines == 1 && profile.kernelsPerAttention == 1 && profile.kernelsPerExpert == 3)
        #expect(profile.calibratedOn?.contains("driver CUDA 13.0, 2026-11-22") == true)
        #expect(profile.measuredCopies?.tokens == [4_096, 1 << 20, 16 << 20, 64 << 20])
        let reread = try HardwareProfile(toml: profile.tomlText, file: "profile.toml")
        #expect(reread == profile)
    }

    @Test func aMeasuredCopyTableTimesSingleEngineCopies() throws {
        var profile = HardwareProfile.preset(named: "h100-pcie")!
        profile.measuredCopies = CalibrationTable(tokens: [1_000, 2_000], nanoseconds: [10_000, 30_000])
        var bus = PCIeBus(links: [profile.link])
        var queue = EventQueue()
        _ = bus.submit(bytes: 1_500, priority: .demand, tag: 0, now: 0, queue: &queue)
        var finished: CopyCompletion?
        while finished == nil, let event = queue.popNext() { finished = bus.handle(event, now: event.time, queue: &queue) }
        #expect(finished?.finishedAt == Nanoseconds(20_000))
    }

    @Test func aGPUIsMatchedToItsPresetByName() {
        func preset(_ name: String) -> String? {
            CalibrationMeasurements(gpuName: name, computeCapability: "9.0", driverVersion: 13000, copies: [:], h2dGBps: 1,
                                    copyLatencyNs: 0, launchGapNs: 0, streamGBps: 1, copySlowdown: 1, kernelSlowdown: 1, experts: [:])
                .datasheetPreset?.name
        }
        #expect(preset("NVIDIA H100 80GB HBM3") == "h100-sxm")
        #expect(preset("NVIDIA H100 PCIe") == "h100-pcie")
        #expect(preset("NVIDIA H200") == "h200")
        #expect(preset("NVIDIA RTX A6000") == "rtx-a6000")
        #expect(preset("NVIDIA L40S") == nil)
    }

    @Test func aGPUWithoutAPresetTakesItsMemoryFromTheDriver() {
        func profile(_ name: String) -> HardwareProfile {
            CalibrationMeasurements(gpuName: name, computeCapability: "8.9", driverVersion: 13000, copies: [4_096: 3_000], h2dGBps: 25,
                                    copyLatencyNs: 3_000, launchGapNs: 3_000, streamGBps: 800, copySlowdown: 1, kernelSlowdown: 1,
                                    experts: [:], totalMemoryBytes: 47_697 << 20)
                .profile(date: "2026-12-04")
        }
        // 47,697 MiB is what an L40S's driver reports: 46.57 GiB, rounded down to 1/100 GiB.
        #expect(profile("NVIDIA L40S").memoryGiB == 46.57)
        #expect(profile("NVIDIA L40S").source.contains("memory_gib the driver's total"))
        // A preset's datasheet figure stands where one matches.
        #expect(profile("NVIDIA H200").memoryGiB == 141)
    }

    @Test func calibrateWritesAProfileTheSimulatorLoads() throws {
        let folder = Repository.temporaryFolder()
        let library = FakeDriver.library()
        let calibrate = try CLI.run(["gpu", "calibrate", "--model", "qwen3-30b-a3b", "-o", folder + "/fake.toml"],
                                    environment: ["MOESIM_LIBCUDA": library])
        #expect(calibrate.status == 0, "\(calibrate.stderr)")
        #expect(calibrate.stdout.contains("calibrated on Fake NVIDIA H100 PCIe"))
        let simulate = try CLI.run(["simulate", "--trace", Repository.root + "/traces/demo.sqlite", "--hardware", folder + "/fake.toml"])
        #expect(simulate.status == 0, "\(simulate.stderr)")
        #expect(simulate.stdout.contains("calibrated-h100-pcie (calibrated on Fake NVIDIA H100 PCIe"))
    }
}
