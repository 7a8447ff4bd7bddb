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
        abstract: "Measure this machine's host memory bandwidth and FMA rate into a hardware profile (what CPU experts are priced by).",
        subcommands: [HostCalibrateCommand.self])
}

struct HostCalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure the host memory bandwidth and FMA rate a CPU expert kernel reaches and write a profile with them.",
        discussion: """
            Threads sum their share of a buffer far larger than the CPU's caches (STREAM's read kernel), \
            then run fused multiply-adds on values in registers, each the fastest of five passes; the \
            profile given with --hardware is written with those figures as host.memory_gbps and \
            host.tflops (both upper bounds for a real expert kernel) and where they were measured as \
            host.calibrated_on. The per-expert overhead and every GPU figure stay the profile's own. \
            Run it on the machine whose CPU serves the experts, with the threads the engine uses \
            (llama.cpp: --threads).

            With --ggml (llama.cpp's libggml-cpu.so), --model and --expert-type it also times the \
            model's routed expert as llama.cpp's CPU path computes it (ggml's MUL_MAT_ID over the \
            gate, up and down matrices, read from memory) at each of --expert-tokens, and writes \
            the table as calibration.host_expert_ffn.MODEL: CPU experts of that model and size are \
            then timed by it instead of the roofline over the two ceilings.
            """)

    @Option(help: "Hardware preset or profile file (.toml) to write with the measured host figure.")
    var hardware: String

    @Option(help: "Threads reading at once (default: this machine's active processors).")
    var threads: Int?

    @Option(help: "MiB read per pass; well above the last-level cache.")
    var mib = 1_024

    @Option(help: "FMA rounds per thread per pass (256 operations each).")
    var fmaRounds = 1 << 24

    @Option(help: "llama.cpp's CPU backend library (libggml-cpu.so) to time the model's expert with.")
    var ggml: String?

    @Option(help: "With --ggml: the model preset whose expert is timed (moesim models).")
    var model: String?

    @Option(help: "With --ggml: ggml's type of the expert's gate and up matrices (e.g. q4_K, q8_0, f16).")
    var expertType: String?

    @Option(help: "With --ggml: ggml's type of the down matrix (default: --expert-type; q6_K in Q4_K_M's larger layers).")
    var downType: String?

    @Option(help: "With --ggml: comma-separated token counts an expert takes.")
    var expertTokens = "1,2,4,8,16,32"

    @Option(name: .shortAndLong, help: "The profile file to write (.toml).")
    var output: String

    /// `--expert-tokens` as ascending counts.
    var tokenCounts: [Int] {
        get throws {
            let items = expertTokens.split(separator: ",", omittingEmptySubsequences: false)
            let counts = items.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !counts.isEmpty, counts.count == items.count, counts.allSatisfy({ (1...4_096).contains($0) }),
                  zip(counts, counts.dropFirst()).allSatisfy(<) else {
                throw ValidationError("--expert-tokens '\(expertTokens)' must be ascending whole counts from 1 to 4096, comma-separated")
            }
            return counts
        }
    }

    func validate() throws {
        if ggml != nil {
            guard model != nil, expertType != nil else { throw ValidationError("--ggml needs --model and --expert-type") }
            _ = try tokenCounts
        } else if model != nil || expertType != nil || downType != nil {
            throw ValidationError("--model, --expert-type and --down-type time an expert with --ggml; give --ggml too")
        }
        if let threads { try OptionRange.check(threads, 1...4_096, "--threads") }
        try OptionRange.check(mib, 1...1_048_576, "--mib")
        try OptionRange.check(fmaRounds, 1...(1 << 34), "--fma-rounds")
    }

    func run() throws {
        let physical = ProcessInfo.processInfo.physicalMemory
        guard UInt64(mib) << 20 <= physical / 2 else {
            throw TraceStoreError(file: "--mib", problem: "\(mib) MiB is more than half of this machine's \(physical >> 20) MiB of memory",
                                  fix: "Give at most \(physical >> 21) MiB; a few times the last-level cache is enough.")
        }
        let profile = try RunSetup.profile(hardware)
        let preset = try model.map { try ModelPreset.require($0) }
        let library = try ggml.map(GGMLLibrary.init(path:))
        try AtomicFile.refuseOverwriting(inputs: [hardware] + (ggml.map { [$0] } ?? []), output: output)
        if let library, let expertType {
            // A type the library lacks is refused before a second of measuring.
            _ = try library.type(named: expertType)
            _ = try library.type(named: downType ?? expertType)
        }
        #if DEBUG
        printError("warning: a debug build reads memory several times slower than a release build; measure with the release binary (make release)")
        #endif
        let threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let benchmark = HostMemoryBandwidth(bytes: mib << 20, threads: threads)
        let memory = benchmark.measure()
        let fma = HostFMAThroughput(iterations: fmaRounds, threads: threads).measure()
        let date = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        var written = profile.withHost(memory: memory, fma: fma, cpu: Self.cpuName(), threads: threads, bytes: benchmark.bytes, date: date)
        var expertLines: [String] = []
        if let library, let preset, let expertType {
            let kernel = GGMLExpertKernel(gateUpType: expertType, downType: downType ?? expertType, tokens: try tokenCounts,
                                          threads: threads, bytes: mib << 20)
            printError("timing \(preset.name)'s expert with ggml's MUL_MAT_ID at \(expertTokens) tokens over \(mib) MiB of weights")
            let calibration = try kernel.measure(model: preset, library: library, cpu: Self.cpuName(), date: date) { count, ns in
                expertLines.append("CPU expert  \(preset.name) at \(count) token\(count == 1 ? "" : "s"): \(String(format: "%.1f", ns / 1_000)) µs")
            }
            written.hostExpertCalibration[preset.name] = calibration
            expertLines.append("CPU expert  timed with \(calibration.kernel); \(calibration.expertBytes) bytes an expert")
        }
        try AtomicFile.write(written.tomlText, to: output)
        let plural = threads == 1 ? "" : "s"
        print("""
            \(written.label)
            host memory \(String(format: "%.2f", written.hostMemoryGBps)) GB/s read by \(threads) thread\(plural) (fastest of \(memory.passNanoseconds.count) passes over \(mib) MiB; the profile had \(String(format: "%.2f", profile.hostMemoryGBps)))
            host FMAs   \(String(format: "%.4f", written.hostTFLOPS)) TFLOP/s on \(threads) thread\(plural), fp32 peak in registers (fastest of \(fma.passNanoseconds.count) passes of \(fmaRounds) rounds; the profile had \(String(format: "%.4f", profile.hostTFLOPS)))
            \(expertLines.map { $0 + "\n" }.joined())wrote \(output)
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
