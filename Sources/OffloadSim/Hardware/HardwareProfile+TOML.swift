import TOML

extension HardwareProfile {
    /// Every key a profile file may hold ("calibration.expert_ffn.*" holds per-model tables).
    public static let tomlKeys = [
        "name", "display_name", "source", "calibrated_on",
        "gpu.hbm_gbps", "gpu.peak_tflops", "gpu.memory_gib", "gpu.memory_efficiency", "gpu.compute_efficiency",
        "gpu.launch_overhead_ns", "gpu.kernels_per_attention", "gpu.kernels_per_expert",
        "bus.h2d_gbps", "bus.latency_ns", "bus.copy_engines", "bus.chunk_bytes",
        "host.memory_gbps", "host.tflops", "host.expert_overhead_ns",
        "calibration.expert_ffn.*", "calibration.copy.bytes", "calibration.copy.ns",
        "calibration.stream.bytes", "calibration.stream.ns",
        "calibration.contention.copy_slowdown", "calibration.contention.kernel_slowdown",
    ]

    /// Reads a profile from TOML text; `file` names it in errors, which give the line and the fix.
    public init(toml text: String, file: String) throws {
        func fail(_ line: Int, _ problem: String) -> TOMLFileError { TOMLFileError(file: file, line: line, problem: problem) }
        let document = try TOMLDocument(parsing: text, file: file, allowed: Self.tomlKeys)
        func required<T>(_ key: String, _ read: (String) throws -> T?) throws -> T {
            guard let value = try document.read(key, file: file, read) else { throw fail(0, "is missing the key '\(key)'") }
            return value
        }
        func optional<T>(_ key: String, _ read: (String) throws -> T?) throws -> T? {
            try document.read(key, file: file, read)
        }
        func positive(_ key: String, _ value: Double) throws -> Double {
            guard value > 0, value.isFinite else { throw fail(document.line(of: key), "'\(key)' must be positive, not \(value)") }
            return value
        }
        var tables: [String: CalibrationTable] = [:]
        let prefix = "calibration.expert_ffn."
        for key in document.keys(under: "calibration.expert_ffn") where key.hasSuffix(".tokens") {
            let model = String(key.dropFirst(prefix.count).dropLast(".tokens".count))
            let tokens = try required(key, document.numbers).map { Int($0) }
            let nanoseconds = try required(prefix + model + ".ns", document.numbers)
            guard let table = CalibrationTable(tokens: tokens, nanoseconds: nanoseconds) else {
                throw fail(document[key]!.line, "calibration table '\(model)' needs ascending token counts and as many non-negative times")
            }
            tables[model] = table
        }
        let engines = try optional("bus.copy_engines", document.integer) ?? 1
        let chunk = try optional("bus.chunk_bytes", document.integer) ?? 0
        guard engines >= 1, chunk >= 0 else {
            throw fail(document["bus.copy_engines"]?.line ?? document["bus.chunk_bytes"]?.line ?? 0, "'bus.copy_engines' must be ≥ 1 and 'bus.chunk_bytes' ≥ 0")
        }
        let latency = try required("bus.latency_ns", document.number)
        guard latency >= 0 else { throw fail(document["bus.latency_ns"]!.line, "'bus.latency_ns' must not be negative") }
        self.init(
            name: try required("name", document.string), displayName: try required("display_name", document.string),
            source: try optional("source", document.string) ?? "", calibratedOn: try optional("calibrated_on", document.string),
            hbmGBps: try positive("gpu.hbm_gbps", required("gpu.hbm_gbps", document.number)),
            peakTFLOPS: try positive("gpu.peak_tflops", required("gpu.peak_tflops", document.number)),
            memoryGiB: try optional("gpu.memory_gib", document.number) ?? 0,
            memoryEfficiency: try positive("gpu.memory_efficiency", optional("gpu.memory_efficiency", document.number) ?? 0.8),
            computeEfficiency: try positive("gpu.compute_efficiency", optional("gpu.compute_efficiency", document.number) ?? 0.7),
            launchOverheadNs: Nanoseconds(try optional("gpu.launch_overhead_ns", document.number) ?? 5_000),
            kernelsPerAttention: try optional("gpu.kernels_per_attention", document.integer) ?? 8,
            kernelsPerExpert: try optional("gpu.kernels_per_expert", document.integer) ?? 4,
            link: BusLink(gbps: try positive("bus.h2d_gbps", required("bus.h2d_gbps", document.number)),
                          latencyNs: Nanoseconds(latency), copyEngines: engines, chunkBytes: chunk),
            hostMemoryGBps: try positive("host.memory_gbps", optional("host.memory_gbps", document.number) ?? 100),
            hostTFLOPS: try positive("host.tflops", optional("host.tflops", document.number) ?? 2),
            hostExpertOverheadNs: Nanoseconds(try optional("host.expert_overhead_ns", document.number) ?? 20_000),
            expertCalibration: tables)
        // A measured time-against-bytes table: `[calibration.NAME]` with `bytes` and `ns`.
        func byteTable(_ name: String) throws -> CalibrationTable? {
            let prefix = "calibration.\(name)."
            guard let bytes = try optional(prefix + "bytes", document.numbers) else { return nil }
            let times = try required(prefix + "ns", document.numbers)
            guard let table = CalibrationTable(tokens: bytes.map { Int($0) }, nanoseconds: times) else {
                throw fail(document.line(of: prefix + "bytes"), "'calibration.\(name)' needs ascending sizes and as many non-negative times")
            }
            return table
        }
        measuredCopies = try byteTable("copy")
        streamCalibration = try byteTable("stream")
        copySlowdown = try optional("calibration.contention.copy_slowdown", document.number)
        kernelSlowdown = try optional("calibration.contention.kernel_slowdown", document.number)
    }

    /// The profile as a TOML file a user can edit and load with `--hardware FILE`.
    public var tomlText: String {
        var lines = [
            "# moesim hardware profile (load with --hardware PATH; see `moesim hardware`)",
            "name = \(TOMLValue.quoted(name))",
            "display_name = \(TOMLValue.quoted(displayName))",
            "source = \(TOMLValue.quoted(source))",
        ]
        if let calibratedOn { lines.append("calibrated_on = \(TOMLValue.quoted(calibratedOn))") }
        lines += [
            "", "[gpu]",
            "hbm_gbps = \(TOMLValue.float(hbmGBps))            # datasheet memory bandwidth, GB/s",
            "peak_tflops = \(TOMLValue.float(peakTFLOPS))       # dense bf16 tensor peak, TFLOP/s",
            "memory_gib = \(TOMLValue.float(memoryGiB))",
            "memory_efficiency = \(TOMLValue.float(memoryEfficiency))   # achieved share of hbm_gbps",
            "compute_efficiency = \(TOMLValue.float(computeEfficiency))  # achieved share of peak_tflops",
            "launch_overhead_ns = \(launchOverheadNs)  # per kernel",
            "kernels_per_attention = \(kernelsPerAttention)",
            "kernels_per_expert = \(kernelsPerExpert)",
            "", "[bus]",
            "h2d_gbps = \(TOMLValue.float(link.gbps))         # sustained pinned host-to-device, GB/s (1 GB = 10^9 B)",
            "latency_ns = \(link.latencyNs)          # fixed cost per copy (per chunk when chunked)",
            "copy_engines = \(link.copyEngines)             # concurrent copies; they share h2d_gbps",
            "chunk_bytes = \(link.chunkBytes)              # 0: whole copies; else demand copies overtake prefetches at chunk boundaries",
            "", "[host]                        # the CPU, for policies that compute experts there (fiddler)",
            "memory_gbps = \(TOMLValue.float(hostMemoryGBps))",
            "tflops = \(TOMLValue.float(hostTFLOPS))",
            "expert_overhead_ns = \(hostExpertOverheadNs)",
        ]
        func byteTable(_ name: String, _ table: CalibrationTable?, _ comment: String) {
            guard let table else { return }
            lines += ["", "[calibration.\(name)]".padding(toLength: 35, withPad: " ", startingAt: 0) + "# " + comment,
                      "bytes = \(TOMLValue.array(table.tokens.map { .integer($0) }))",
                      "ns = \(TOMLValue.array(table.nanoseconds.map { .float($0) }))"]
        }
        byteTable("copy", measuredCopies, "measured copy time against size: times copies on one engine")
        byteTable("stream", streamCalibration, "one weight-streaming launch: time against bytes read (attention)")
        if copySlowdown != nil || kernelSlowdown != nil {
            lines += ["", "[calibration.contention]           # time together / time alone; kernels that start during a copy are slowed by kernel_slowdown"]
            if let copySlowdown { lines.append("copy_slowdown = \(TOMLValue.float(copySlowdown))") }
            if let kernelSlowdown { lines.append("kernel_slowdown = \(TOMLValue.float(kernelSlowdown))") }
        }
        for model in expertCalibration.keys.sorted() {
            let table = expertCalibration[model]!
            lines += ["", "[calibration.expert_ffn.\(model)]",
                      "tokens = \(TOMLValue.array(table.tokens.map { .integer($0) }))",
                      "ns = \(TOMLValue.array(table.nanoseconds.map { .float($0) }))"]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
