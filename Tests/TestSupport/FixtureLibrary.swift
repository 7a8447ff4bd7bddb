import Foundation

/// A C fixture built into shared libraries with the system C compiler (`cc -shared`), one per
/// variant of preprocessor flags, for tests of code that loads a library at run time (a fake
/// libcuda, a fake libggml-cpu). Each test takes its own copy: the dynamic loader keeps one
/// instance per file, so copies keep the tests' clocks, logs and injected failures apart.
public struct FixtureLibrary: Sendable {
    private let built: [String: String]

    /// Builds `source` (a path under the repository) once per entry of `variants` (name: flags).
    public init(source: String, variants: [String: [String]]) {
        var paths: [String: String] = [:]
        let folder = Repository.temporaryFolder()
        for (variant, flags) in variants {
            let output = folder + "/fixture-\(variant).so"
            let compiler = Process()
            compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            compiler.arguments = ["cc", "-shared", "-fPIC", "-O1", "-o", output, Repository.root + "/" + source] + flags
            try! compiler.run()
            compiler.waitUntilExit()
            precondition(compiler.terminationStatus == 0, "cc failed to build \(source) (\(variant))")
            paths[variant] = output
        }
        built = paths
    }

    /// A fresh copy of `variant`, named `name` in a folder of its own.
    public func copy(_ variant: String, as name: String) -> String {
        let copy = Repository.temporaryFolder() + "/" + name
        try! FileManager.default.copyItem(atPath: built[variant]!, toPath: copy)
        return copy
    }
}
