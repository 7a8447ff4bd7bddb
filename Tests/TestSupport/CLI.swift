import Foundation

/// Runs the built `moesim` binary, for tests of exit status, messages and files left behind.
public enum CLI {
    /// Exit status and captured output.
    public struct Result {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The `moesim` executable next to the test bundle (swift test builds it: the test target depends on it).
    public static let executable: String = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundle, bundle.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("moesim").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        for configuration in ["debug", "release"] {
            let path = Repository.root + "/.build/\(configuration)/moesim"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return Repository.root + "/.build/debug/moesim"
    }()

    /// Runs `moesim` with `arguments` (and `environment` added to this process's) and waits for it.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}
