import Foundation
import TestSupport

/// The fake libggml-cpu (Fixtures/fake_libggml.c), built once per variant; each test takes a
/// copy of its own (``FixtureLibrary``).
enum FakeGGML {
    private static let built = FixtureLibrary(source: "Tests/HostCalibrationTests/Fixtures/fake_libggml.c",
                                              variants: ["full": [], "no-time": ["-DFAKE_OMIT_TIME"]])

    /// A fresh copy of the fake library; `withoutClock` lacks ggml_time_us.
    static func library(withoutClock: Bool = false) -> String {
        built.copy(withoutClock ? "no-time" : "full", as: "libggml-cpu.so")
    }

    /// What the fake at `path` found wrong, and the MUL_MAT_IDs it computed; the test's
    /// ``GGMLLibrary`` over it must still be alive (`withExtendedLifetime`), or the fake is unloaded.
    static func state(_ path: String) -> (failure: String, ops: Int) {
        let handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD)!
        defer { dlclose(handle) }
        typealias Failure = @convention(c) () -> UnsafePointer<CChar>
        typealias Ops = @convention(c) () -> Int64
        let failure = unsafeBitCast(dlsym(handle, "fake_ggml_failure")!, to: Failure.self)
        let ops = unsafeBitCast(dlsym(handle, "fake_ggml_ops")!, to: Ops.self)
        return (String(cString: failure()), Int(ops()))
    }
}
