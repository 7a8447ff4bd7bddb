import Foundation
import TestSupport

@testable import CUDABackend

/// The fake libcuda (Fixtures/fake_libcuda.c), built once per variant; each test takes a copy
/// of its own (``FixtureLibrary``).
enum FakeDriver {
    private static let built = FixtureLibrary(source: "Tests/CUDABackendTests/Fixtures/fake_libcuda.c",
                                              variants: ["full": [], "no-launch": ["-DFAKE_OMIT_LAUNCH"]])

    /// A fresh copy of the fake library; `withoutLaunch` lacks cuLaunchKernel.
    static func library(withoutLaunch: Bool = false) -> String {
        built.copy(withoutLaunch ? "no-launch" : "full", as: "libcuda.so.1")
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
