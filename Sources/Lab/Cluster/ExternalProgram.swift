import Foundation
import TraceStore

/// Runs a program found on `PATH` and captures what it prints: how moesim talks to the Slurm
/// client commands (`sbatch`, `squeue`, `sacct`, `scancel`), which are the scheduler's only
/// stable interface.
struct ExternalProgram {
    /// Exit status and captured output.
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The program's name, as looked up on `PATH`.
    let name: String
    /// Its absolute path, or nil when it is not on `PATH`.
    let path: String?

    /// Looks `name` up on `environment`'s `PATH`.
    init(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.name = name
        path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs it with `arguments` and waits; throws only when it cannot be started.
    func run(_ arguments: [String]) throws -> Output {
        guard let path else {
            throw TraceStoreError(file: name, problem: "is not on PATH", fix: "Run on a Slurm login node, or load the Slurm client module (e.g. `module load slurm`).")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read stderr on another thread so that a full pipe cannot block the program.
        nonisolated(unsafe) var errors = Data()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errors = err.fileHandleForReading.readDataToEndOfFile()
            drained.signal()
        }
        let printed = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: printed, as: UTF8.self),
                      stderr: String(decoding: errors, as: UTF8.self))
    }

    /// Runs it and returns standard output; a non-zero exit throws with what it printed.
    func succeed(_ arguments: [String], fix: String) throws -> String {
        let output = try run(arguments)
        guard output.status == 0 else {
            let said = (output.stderr + output.stdout).trimmingCharacters(in: .whitespacesAndNewlines)
            throw TraceStoreError(file: name, problem: "failed (exit \(output.status)) for `\(([name] + arguments).joined(separator: " "))`: \(said.isEmpty ? "no message" : said)", fix: fix)
        }
        return output.stdout
    }
}
