import ArgumentParser
import Foundation
import HostCalibration
import Lab
import OffloadSim
import TraceStore

/// `moesim host`: measure the host CPU side of a hardware profile on this machine.
struct HostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Measure this machine's host memory bandwidth into a hardware profile (the rate CPU experts read weights at).",
        subcommands: [HostCalibrateCommand.self])
}

struct HostCalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure the host memory bandwidth a CPU expert kernel reaches and write a profile with it.",
        discussion: """
            Threads sum their share of a buffer far larger than the CPU's caches (STREAM's read kernel), \
            the fastest of five passes; the profile given with --hardware is written with that figure as \
            host.memory_gbps and where it was measured as host.calibrated_on. Every other figure is the \
            profile's own, the host's FLOP/s included. Run it on the machine whose CPU serves the experts, \
            with the threads the engine uses (llama.cpp: --threads).
            """)

    @Option(help: "Hardware preset or profile file (.toml) to write with the measured host figure.")
    var hardware: String

    @Option(help: "Threads reading at once (default: this machine's active processors).")
    var threads: Int?

    @Option(help: "MiB read per pass; well above the last-level cache.")
    var mib = 1_024

    @Option(name: .shortAndLong, help: "The profile file to write (.toml).")
    var output: String

    func validate() throws {
        if let threads { try OptionRange.check(threads, 1...4_096, "--threads") }
        try OptionRange.check(mib, 1...1_048_576, "--mib")
    }

    func run() throws {
        let physical = ProcessInfo.processInfo.physicalMemory
        guard UInt64(mib) << 20 <= physical / 2 else {
            throw TraceStoreError(file: "--mib", problem: "\(mib) MiB is more than half of this machine's \(physical >> 20) MiB of memory",
                                  fix: "Give at most \(physical >> 21) MiB; a few times the last-level cache is enough.")
        }
        let profile = try RunSetup.profile(hardware)
        try AtomicFile.refuseOverwriting(inputs: [hardware], output: output)
        #if DEBUG
        printError("warning: a debug build reads memory several times slower than a release build; measure with the release binary (make release)")
        #endif
        let threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let benchmark = HostMemoryBandwidth(bytes: mib << 20, threads: threads)
        let measured = benchmark.measure()
        let date = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        let written = profile.withHostMemory(measured, cpu: Self.cpuName(), threads: threads, bytes: benchmark.bytes, date: date)
        try AtomicFile.write(written.tomlText, to: output)
        print("""
            \(written.label)
            host memory \(String(format: "%.2f", written.hostMemoryGBps)) GB/s read by \(threads) thread\(threads == 1 ? "" : "s") (fastest of \(measured.passNanoseconds.count) passes over \(mib) MiB; the profile had \(String(format: "%.2f", profile.hostMemoryGBps)))
            wrote \(output)
            """)
    }

    /// The CPU's model name as Linux reports it, or "unknown CPU".
    static func cpuName() -> String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "unknown CPU" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
}
