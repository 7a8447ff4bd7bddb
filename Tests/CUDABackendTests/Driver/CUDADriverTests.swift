import Foundation
import Testing
import TestSupport

@testable import CUDABackend

@Suite struct CUDADriverTests {
    @Test func aMissingLibraryIsReportedWithItsPathAndTheFix() {
        #expect {
            _ = try CUDADriver(path: "/nonexistent/libcuda.so.1")
        } throws: { error in
            guard case .driverNotFound(let path, let reason) = error as? CUDAError else { return false }
            return path == "/nonexistent/libcuda.so.1" && reason.contains("No such file")
                && "\(error)".contains("MOESIM_LIBCUDA")
        }
    }

    @Test func aLibraryWithoutAnEntryPointIsRefusedNamingIt() {
        #expect(throws: CUDAError.missingEntryPoint(path: FakeDriverPath.noLaunch, symbol: "cuLaunchKernel")) {
            _ = try CUDADriver(path: FakeDriverPath.noLaunch)
        }
    }

    @Test func aContextReportsTheDeviceAndInitialisesTheDriverFirst() throws {
        let driver = try FakeDriver.driver()
        let context = try CUDAContext(driver: driver)
        #expect(context.deviceName == "Fake NVIDIA H100 PCIe")
        #expect(context.totalMemory == 80 << 30)
        #expect(context.computeCapability == "9.0")
        #expect(context.asyncEngines == 2)
        #expect(try driver.driverVersion() == 13000)
        let calls = FakeDriver.calls(driver)
        #expect(calls.first == "cuInit")
        let retain = try #require(calls.firstIndex(of: "cuDevicePrimaryCtxRetain"))
        let current = try #require(calls.firstIndex(of: "cuCtxSetCurrent"))
        #expect(retain < current)
    }

    @Test func theKernelsLoadFromTheCommittedPTX() throws {
        let driver = try FakeDriver.driver()
        let context = try CUDAContext(driver: driver)
        _ = try MoesimKernels(context: context)
        let calls = FakeDriver.calls(driver)
        #expect(calls.filter { $0 == "cuModuleGetFunction" }.count == 5)
        let file = try String(contentsOfFile: Repository.root + "/Sources/CUDABackend/Kernels/moesim_kernels.ptx", encoding: .utf8)
        #expect(MoesimKernels.ptx == file)
    }

    /// Calls made while opening a context, loading the kernels, timing one copy and one launch
    /// and reading a few bytes back.
    static let failingCalls = [
        "cuInit", "cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName", "cuDeviceTotalMem_v2", "cuDeviceGetAttribute",
        "cuDevicePrimaryCtxRetain", "cuCtxSetCurrent", "cuModuleLoadData", "cuModuleGetFunction", "cuStreamCreate",
        "cuEventCreate", "cuMemAlloc_v2", "cuMemsetD8_v2", "cuMemAllocHost_v2", "cuMemcpyHtoDAsync_v2", "cuEventRecord",
        "cuEventSynchronize", "cuEventElapsedTime", "cuLaunchKernel", "cuMemcpyDtoHAsync_v2", "cuStreamSynchronize",
    ]

    @Test(arguments: failingCalls)
    func everyFailingDriverCallIsReportedByNameWithTheDriversMessage(_ call: String) throws {
        let driver = try FakeDriver.driver()
        FakeDriver.fail(driver, call: call, code: 999)
        #expect {
            let context = try CUDAContext(driver: driver)
            let kernels = try MoesimKernels(context: context)
            let stream = try context.makeStream()
            let timer = try GPUTimer(context: context)
            let host = try context.allocatePinned(1 << 20)
            let device = try context.allocateDevice(1 << 20)
            let activations = try ExpertActivations(context: context, maxTokens: 1, width: 64, intermediate: 64, rows: 64)
            _ = try timer.time(stream, repetitions: 2) { _ in
                try stream.copy(1 << 20, from: host, to: device)
                try kernels.rows(device, rows: 64, columns: 64, input: activations.input, tokens: 1, output: activations.output, on: stream)
            }
            try stream.copy(64, from: device, to: host)
            try stream.synchronize()
        } throws: { error in
            guard case .call(let name, let code, let message) = error as? CUDAError else { return false }
            return name.hasPrefix(call.replacingOccurrences(of: "_v2", with: "")) && code == 999 && message == "unknown error"
        }
    }

    @Test func theGPUCommandsExitWithStatusTwoWithoutADriver() throws {
        let folder = Repository.temporaryFolder()
        let result = try CLI.run(["gpu", "calibrate", "-o", folder + "/profile.toml"], environment: ["MOESIM_LIBCUDA": "/nonexistent/libcuda.so.1"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("cannot load the CUDA driver library '/nonexistent/libcuda.so.1'"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/profile.toml"))
    }
}

/// The fake library without cuLaunchKernel, built once.
enum FakeDriverPath {
    static let noLaunch = FakeDriver.library(withoutLaunch: true)
}
