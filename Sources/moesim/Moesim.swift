import ArgumentParser
import CUDABackend
import TraceStore

#if canImport(Glibc)
import Glibc
#endif

/// The `moesim` command line: a thin layer over the library modules.
@main
struct Moesim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moesim",
        abstract: "Trace-driven simulator and policy lab for MoE inference with experts offloaded to CPU memory.",
        version: MoesimVersion.current,
        subcommands: [TraceCommand.self, SimulateCommand.self, CompareCommand.self, CacheCurveCommand.self, SweepCommand.self, MergeCommand.self, PredictCommand.self, PoliciesCommand.self, TableCommand.self, ModelsCommand.self, HardwareCommand.self, EnginesCommand.self, ReproduceCommand.self, ReportCommand.self, ExportCommand.self, GPUCommand.self, HostCommand.self]
    )

    /// Runs the command; every user-facing failure exits with status 2 and one clear
    /// message (argument errors included), help and version with 0.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as TraceStoreError {
            printError("error: \(error)")
            Glibc.exit(2)
        } catch let error as CUDAError {
            printError("error: \(error)")
            Glibc.exit(2)
        } catch let error as ReplayError {
            printError("error: \(error)")
            Glibc.exit(2)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            printError(fullMessage(for: error))
            Glibc.exit(2)
        }
    }
}

/// Writes `message` (and a newline unless told otherwise) to standard error.
func printError(_ message: String, newline: Bool = true) {
    let line = message + (newline ? "\n" : "")
    _ = line.withCString { write(2, $0, strlen($0)) }
}
