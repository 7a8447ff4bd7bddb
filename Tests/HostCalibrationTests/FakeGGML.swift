import Foundation
import TestSupport

/// Builds the fake libggml-cpu (Fixtures/fake_libggml.c) with the system C compiler, once per
/// variant, and hands each test its own copy: the loader keeps one instance per file, so
/// copies keep the tests' clocks, counts and failures apart.
enum FakeGGML {
    private static let built: [String: String] = {
        var paths: [String: String] = [:]
        let source = Repository.root + "/Tests/HostCalibrationTests/Fixtures/fake_libggml.c"
        let folder = Repository.temporaryFolder()
        for (variant, flags) in [("full", [String]()), ("no-time", ["-DFAKE_OMIT_TIME"])] {
            let output = folder + "/libfakeggml-\(variant).so"
            let compiler = Process()
            compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            compiler.arguments = ["cc", "-shared", "-fPIC", "-O1", "-o", output, source] + flags
            try! compiler.run()
            compiler.waitUntilExit()
            precondition(compiler.terminationStatus == 0, "cc failed to build the fake libggml")
            paths[variant] = output
        }
        return paths
    }()

    /// A fresh copy of the fake library; `withoutClock` lacks ggml_time_us.
    static func library(withoutClock: Bool = false) -> String {
        let copy = Repository.temporaryFolder() + "/libggml-cpu.so"
        try! FileManager.default.copyItem(atPath: built[withoutClock ? "no-time" : "full"]!, toPath: copy)
        return copy
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
