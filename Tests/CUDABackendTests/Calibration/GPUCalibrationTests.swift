import Foundation
import OffloadSim
import Testing
import TestSupport
import TraceStore

@testable import CUDABackend

@Suite struct GPUCalibrationTests {
    /// A calibration on the fake driver, whose clock moves copies at 25 GB/s after 2,000 ns,
    /// weight-streaming launches at 1,000 GB/s after 3,000 ns, SwiGLU in 1,000 ns and an empty launch in 3,000 ns.
    static func measure() throws -> CalibrationMeasurements {
        let context = try CUDAContext(driver: try FakeDriver.driver())
        let kernels = try MoesimKernels(context: context)
        let plan = CalibrationPlan(models: [ModelPreset.named("qwen3-30b-a3b")!], copySizes: [4_096, 1 << 20, 16 << 20, 64 << 20],
                                   tokenCounts: [1, 4])
        return try GPUCalibration(context: context, kernels: kernels, plan: plan).measure()
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
        #expect(preset("NVIDIA RTX A6000") == "rtx-a6000")
        #expect(preset("NVIDIA L40S") == nil)
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
