import Foundation

/// Runs the built `moesim` binary (and other programs tests drive), for tests of exit status,
/// messages and files left behind.
public enum CLI {
    /// Exit status and captured output.
    public struct Result: Sendable {
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
        try run(program: executable, arguments, environment: environment)
    }

    /// Runs any `program` (a path) with `arguments`, optionally in `folder`, and waits for it.
    public static func run(program: String, _ arguments: [String], environment: [String: String] = [:],
                           in folder: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain stderr on another thread so that a chatty program cannot block on a full pipe.
        nonisolated(unsafe) var stderr = Data()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            stderr = err.fileHandleForReading.readDataToEndOfFile()
            drained.signal()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Why a command a test needs as a fixture failed: its arguments and what it printed.
    public struct FixtureError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Synthesises a trace of the preset `model` (`moesim trace synth --model`, sequences of
    /// `prefill` + `decode` tokens) into a fresh temporary folder and returns its path; throws
    /// with moesim's message if it fails.
    public static func synthesize(model: String, tokens: Int, prefill: Int, decode: Int, seed: Int, level: Int? = nil) throws -> String {
        let path = Repository.temporaryFolder() + "/\(model).sqlite"
        let arguments = ["trace", "synth", "--model", model, "--tokens", "\(tokens)", "--prefill", "\(prefill)", "--decode", "\(decode)",
                         "--seed", "\(seed)", "-o", path] + (level.map { ["--level", "\($0)"] } ?? [])
        let made = try run(arguments)
        guard made.status == 0 else { throw FixtureError(description: "moesim \(arguments.joined(separator: " ")): \(made.stderr)") }
        return path
    }

    /// The path of `name` on `PATH` (as a shell finds it), or nil.
    public static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first(where: FileManager.default.isExecutableFile)
    }
}
