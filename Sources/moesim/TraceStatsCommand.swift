import ArgumentParser
import TraceStore

struct TraceStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Per-layer popularity, reuse, cross-layer affinity and working set.")

    @Argument(help: "The trace file.")
    var trace: String

    @Flag(help: "Print JSON with stable keys.")
    var json = false

    func run() throws {
        throw ValidationError("not yet")
    }
}

struct TraceSynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "synth", abstract: "Generate a synthetic trace fitted to a real one.")
    func run() throws {
        throw ValidationError("not yet")
    }
}
