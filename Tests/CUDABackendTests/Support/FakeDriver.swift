import Foundation
import TestSupport

@testable import CUDABackend

/// Builds the fake libcuda (Fixtures/fake_libcuda.c) with the system C compiler, once per
/// variant, and hands each test its own copy: the dynamic loader keeps one instance per
/// file, so separate copies keep the tests' logs, clocks and injected failures apart.
enum FakeDriver {
    private static let built: [String: String] = {
        var paths: [String: String] = [:]
        let source = Repository.root + "/Tests/CUDABackendTests/Fixtures/fake_libcuda.c"
        let folder = Repository.temporaryFolder()
        for (variant, flags) in [("full", [String]()), ("no-launch", ["-DFAKE_OMIT_LAUNCH"])] {
            let output = folder + "/libfakecuda-\(variant).so"
            let compiler = Process()
            compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            compiler.arguments = ["cc", "-shared", "-fPIC", "-O1", "-o", output, source] + flags
            try! compiler.run()
            compiler.waitUntilExit()
            precondition(compiler.terminationStatus == 0, "cc failed to build the fake libcuda")
            paths[variant] = output
        }
        return paths
    }()

    /// A fresh copy of the fake library; `withoutLaunch` lacks cuLaunchKernel.
    static func library(withoutLaunch: Bool = false) -> String {
        let original = built[withoutLaunch ? "no-launch" : "full"]!
        let copy = Repository.temporaryFolder() + "/libcuda.so.1"
        try! FileManager.default.copyItem(atPath: original, toPath: copy)
        return copy
    }

    /// A driver over a fresh copy.
    static func driver() throws -> CUDADriver { try CUDADriver(path: library()) }

    /// The fake's log of calls so far, one name per line.
    static func calls(_ driver: CUDADriver) -> [String] {
        typealias LogFunction = @convention(c) () -> UnsafePointer<CChar>
        let symbol = dlsym(driver.api.pointee.handle, "fake_cuda_log")!
        return String(cString: unsafeBitCast(symbol, to: LogFunction.self)()).split(separator: "\n").map(String.init)
    }

    /// The fake's host clock, ns: 1,000 per driver call, plus the GPU work a synchronising call waits for.
    static func hostClock(_ driver: CUDADriver) -> () -> Double {
        typealias ClockFunction = @convention(c) () -> Double
        let clock = unsafeBitCast(dlsym(driver.api.pointee.handle, "fake_cuda_host_ns")!, to: ClockFunction.self)
        return { clock() }
    }

    /// Sets the fake GPU's memory (80 GiB unless set); a context reads it when it is created,
    /// and allocations past it fail with CUDA_ERROR_OUT_OF_MEMORY.
    static func setTotalMemory(_ driver: CUDADriver, bytes: Int) {
        typealias SetFunction = @convention(c) (UInt) -> Void
        unsafeBitCast(dlsym(driver.api.pointee.handle, "fake_cuda_set_total_memory")!, to: SetFunction.self)(UInt(bytes))
    }

    /// Makes the fake fail every later call named `name` with `code`.
    static func fail(_ driver: CUDADriver, call name: String, code: Int32) {
        typealias FailFunction = @convention(c) (UnsafePointer<CChar>, Int32) -> Void
        let symbol = dlsym(driver.api.pointee.handle, "fake_cuda_fail")!
        unsafeBitCast(symbol, to: FailFunction.self)(name, code)
    }
}
