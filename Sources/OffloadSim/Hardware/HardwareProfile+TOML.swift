import TOML
import TraceStore

extension HardwareProfile {
    /// Every key a profile file may hold ("calibration.expert_ffn.*" holds per-model tables,
    /// "calibration.grouped_ffn.*", "calibration.concurrent_ffn.*" and
    /// "calibration.concurrent_ffn_gpu.*" per-model tables for each number of experts run together).
    public static let tomlKeys = [
        "name", "display_name", "source", "calibrated_on",
        "gpu.hbm_gbps", "gpu.peak_tflops", "gpu.memory_gib", "gpu.memory_efficiency", "gpu.compute_efficiency",
        "gpu.launch_overhead_ns", "gpu.sync_after_kernel_ns", "gpu.copy_call_ns", "gpu.stream_event_ns", "gpu.kernels_per_attention", "gpu.kernels_per_expert",
        "bus.h2d_gbps", "bus.latency_ns", "bus.copy_engines", "bus.chunk_bytes", "bus.pageable_h2d_gbps",
        "host.memory_gbps", "host.tflops", "host.expert_overhead_ns", "host.calibrated_on",
        "calibration.expert_ffn.*", "calibration.attention_tokens.*", "calibration.host_expert_ffn.*", "calibration.grouped_ffn.*", "calibration.concurrent_ffn.*", "calibration.concurrent_ffn_gpu.*", "calibration.copy.bytes", "calibration.copy.ns",
        "calibration.pageable_copy.bytes", "calibration.pageable_copy.ns",
        "calibration.stream.bytes", "calibration.stream.ns",
        "calibration.contention.copy_slowdown", "calibration.contention.kernel_slowdown",
        "framework.*",
    ]

    /// Reads a profile from TOML text; `file` names it in errors, which give the line and the
    /// fix. Every number is checked against its ``ValidRange``.
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
        // A number within `range`.
        func number(_ key: String, _ range: ClosedRange<Double>) -> (String) throws -> Double? {
            { try document.number($0, in: range, rangeText: ValidRange.text(range)) }
        }
        func nanoseconds(_ key: String, default value: Nanoseconds) throws -> Nanoseconds {
            let range = Double(ValidRange.costNs.lowerBound)...Double(ValidRange.costNs.upperBound)
            return try optional(key, number(key, range)).map { Nanoseconds($0.rounded()) } ?? value
        }
        func requiredNanoseconds(_ key: String) throws -> Nanoseconds {
            let range = Double(ValidRange.costNs.lowerBound)...Double(ValidRange.costNs.upperBound)
            return Nanoseconds(try required(key, number(key, range)).rounded())
        }
        func table(_ tokensKey: String, _ nsKey: String, name: String) throws -> CalibrationTable {
            let counts = try required(tokensKey, document.numbers)
            let times = try required(nsKey, document.numbers)
            guard counts.allSatisfy({ $0 >= 1 && $0 <= Double(1 << 40) && $0 == $0.rounded() }),
                  times.allSatisfy({ $0.isFinite && ValidRange.measuredNs.contains($0) }),
                  let table = CalibrationTable(tokens: counts.map { Int($0) }, nanoseconds: times) else {
                throw fail(document.line(of: tokensKey),
                           "calibration table '\(name)' needs ascending whole counts (1…2^40) and as many times in \(ValidRange.text(ValidRange.measuredNs)) ns")
            }
            return table
        }
        // [calibration.NAME.MODEL]: tokens and ns for one model (an expert table's name in messages is its model's).
        func modelTables(_ name: String) throws -> [String: CalibrationTable] {
            var found: [String: CalibrationTable] = [:]
            let prefix = "calibration.\(name)."
            for key in document.keys(under: "calibration.\(name)") where key.hasSuffix(".tokens") {
                let model = String(key.dropFirst(prefix.count).dropLast(".tokens".count))
                found[model] = try table(key, prefix + model + ".ns", name: name == "expert_ffn" ? model : name + "." + model)
            }
            return found
        }
        let tables = try modelTables("expert_ffn")
        // [calibration.NAME.MODEL.WORD_N]: tokens and ns for N experts run together.
        func countTables(_ name: String, word: String) throws -> [String: GroupedCalibration] {
            var found: [String: [Int: CalibrationTable]] = [:]
            let prefix = "calibration.\(name)."
            for key in document.keys(under: "calibration.\(name)") where key.hasSuffix(".tokens") {
                let path = String(key.dropFirst(prefix.count).dropLast(".tokens".count))
                guard let dot = path.lastIndex(of: "."), path[path.index(after: dot)...].hasPrefix(word + "_"),
                      let count = Int(path[path.index(dot, offsetBy: word.count + 2)...]), (1...4_096).contains(count) else {
                    throw fail(document.line(of: key), "'\(key)' should be \(prefix)MODEL.\(word)_N.tokens, N from 1 to 4096")
                }
                found[String(path[..<dot]), default: [:]][count] = try table(key, prefix + path + ".ns", name: name + " " + path)
            }
            return found.compactMapValues(GroupedCalibration.init)
        }
        self.init(
            name: try required("name", document.string), displayName: try required("display_name", document.string),
            source: try optional("source", document.string) ?? "", calibratedOn: try optional("calibrated_on", document.string),
            hbmGBps: try required("gpu.hbm_gbps", number("gpu.hbm_gbps", ValidRange.gbps)),
            peakTFLOPS: try required("gpu.peak_tflops", number("gpu.peak_tflops", ValidRange.tflops)),
            memoryGiB: try optional("gpu.memory_gib", number("gpu.memory_gib", ValidRange.memoryGiB)) ?? 0,
            memoryEfficiency: try optional("gpu.memory_efficiency", number("gpu.memory_efficiency", ValidRange.efficiency)) ?? 0.8,
            computeEfficiency: try optional("gpu.compute_efficiency", number("gpu.compute_efficiency", ValidRange.efficiency)) ?? 0.7,
            launchOverheadNs: try nanoseconds("gpu.launch_overhead_ns", default: 5_000),
            syncAfterKernelNs: try nanoseconds("gpu.sync_after_kernel_ns", default: 5_000),
            copyCallNs: try nanoseconds("gpu.copy_call_ns", default: 5_000),
            kernelsPerAttention: try optional("gpu.kernels_per_attention") { try document.integer($0, in: ValidRange.kernels) } ?? 8,
            kernelsPerExpert: try optional("gpu.kernels_per_expert") { try document.integer($0, in: ValidRange.kernels) } ?? 4,
            link: BusLink(gbps: try required("bus.h2d_gbps", number("bus.h2d_gbps", ValidRange.gbps)),
                          latencyNs: try nanoseconds("bus.latency_ns", default: 5_000),
                          copyEngines: try optional("bus.copy_engines") { try document.integer($0, in: ValidRange.copyEngines) } ?? 1,
                          chunkBytes: try optional("bus.chunk_bytes") { try document.integer($0, in: ValidRange.chunkBytes) } ?? 0),
            hostMemoryGBps: try optional("host.memory_gbps", number("host.memory_gbps", ValidRange.gbps)) ?? 100,
            hostTFLOPS: try optional("host.tflops", number("host.tflops", ValidRange.tflops)) ?? 2,
            hostExpertOverheadNs: try nanoseconds("host.expert_overhead_ns", default: 20_000),
            expertCalibration: tables, groupedCalibration: try countTables("grouped_ffn", word: "experts"),
            concurrentCalibration: try countTables("concurrent_ffn", word: "streams"))
        // A measured time-against-bytes table: `[calibration.NAME]` with `bytes` and `ns`.
        func byteTable(_ name: String) throws -> CalibrationTable? {
            let prefix = "calibration.\(name)."
            guard document[prefix + "bytes"] != nil else { return nil }
            return try table(prefix + "bytes", prefix + "ns", name: name)
        }
        pageableH2DGBps = try optional("bus.pageable_h2d_gbps", number("bus.pageable_h2d_gbps", ValidRange.gbps))
        if document["gpu.stream_event_ns"] != nil { streamEventNs = try nanoseconds("gpu.stream_event_ns", default: 0) }
        hostCalibratedOn = try optional("host.calibrated_on", document.string)
        let hostPrefix = "calibration.host_expert_ffn."
        for key in document.keys(under: "calibration.host_expert_ffn") where key.hasSuffix(".tokens") {
            let model = String(key.dropFirst(hostPrefix.count).dropLast(".tokens".count))
            let bytesKey = hostPrefix + model + ".expert_bytes", kernelKey = hostPrefix + model + ".kernel"
            hostExpertCalibration[model] = HostExpertCalibration(
                table: try table(key, hostPrefix + model + ".ns", name: "host_expert_ffn." + model),
                expertBytes: try required(bytesKey) { try document.integer($0, in: 1...(1 << 40)) },
                kernel: try required(kernelKey, document.string))
        }
        measuredCopies = try byteTable("copy")
        measuredPageableCopies = try byteTable("pageable_copy")
        streamCalibration = try byteTable("stream")
        attentionTokenCalibration = try modelTables("attention_tokens")
        concurrentGPUCalibration = try countTables("concurrent_ffn_gpu", word: "streams")
        // [framework.NAME]: launch_ns, sync_ns, copy_call_ns and measured_on, all four.
        for key in document.keys(under: "framework") {
            let parts = key.split(separator: ".").map(String.init)
            let terms = ["launch_ns", "sync_ns", "copy_call_ns", "measured_on"]
            guard parts.count == 3, terms.contains(parts[2]) else {
                throw fail(document.line(of: key), "'\(key)' should be framework.NAME.KEY with KEY one of \(terms.joined(separator: ", "))")
            }
            let prefix = "framework.\(parts[1])."
            guard frameworkCosts[parts[1]] == nil else { continue }
            frameworkCosts[parts[1]] = FrameworkHostCosts(
                launchNs: try requiredNanoseconds(prefix + "launch_ns"), syncNs: try requiredNanoseconds(prefix + "sync_ns"),
                copyCallNs: try requiredNanoseconds(prefix + "copy_call_ns"),
                measuredOn: try required(prefix + "measured_on", document.string))
        }
        copySlowdown = try optional("calibration.contention.copy_slowdown", number("calibration.contention.copy_slowdown", 0.01...100))
        kernelSlowdown = try optional("calibration.contention.kernel_slowdown", number("calibration.contention.kernel_slowdown", 0.01...100))
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
            "sync_after_kernel_ns = \(syncAfterKernelNs)  # host waits for a small device-to-host copy after a kernel",
            "copy_call_ns = \(copyCallNs)  # host time to issue one copy call",
            "kernels_per_attention = \(kernelsPerAttention)",
            "kernels_per_expert = \(kernelsPerExpert)",
        ]
        if let streamEventNs { lines.append("stream_event_ns = \(streamEventNs)  # host time of one event call between streams (a concurrent layer's fork and join)") }
        lines += [
            "", "[bus]",
            "h2d_gbps = \(TOMLValue.float(link.gbps))         # sustained pinned host-to-device, GB/s (1 GB = 10^9 B)",
            "latency_ns = \(link.latencyNs)          # fixed cost per copy (per chunk when chunked)",
            "copy_engines = \(link.copyEngines)             # concurrent copies; they share h2d_gbps",
            "chunk_bytes = \(link.chunkBytes)              # 0: whole copies; else demand copies overtake prefetches at chunk boundaries",
        ]
        if let pageableH2DGBps {
            lines.append("pageable_h2d_gbps = \(TOMLValue.float(pageableH2DGBps))  # copies from pageable host memory (engines that never pin their weights), GB/s")
        }
        lines += [
            "", "[host]                        # the CPU, for policies that compute experts there (fiddler)",
            "memory_gbps = \(TOMLValue.float(hostMemoryGBps))",
            "tflops = \(TOMLValue.float(hostTFLOPS))",
            "expert_overhead_ns = \(hostExpertOverheadNs)",
        ]
        if let hostCalibratedOn { lines.append("calibrated_on = \(TOMLValue.quoted(hostCalibratedOn))  # where memory_gbps and tflops were measured") }
        func byteTable(_ name: String, _ table: CalibrationTable?, _ comment: String) {
            guard let table else { return }
            lines += ["", "[calibration.\(name)]".padding(toLength: 35, withPad: " ", startingAt: 0) + "# " + comment,
                      "bytes = \(TOMLValue.array(table.tokens.map { .integer($0) }))",
                      "ns = \(TOMLValue.array(table.nanoseconds.map { .float($0) }))"]
        }
        byteTable("copy", measuredCopies, "measured copy time against size: times copies on one engine")
        byteTable("pageable_copy", measuredPageableCopies, "the same from pageable memory: times an engine's pageable copies")
        byteTable("stream", streamCalibration, "one weight-streaming launch: time against bytes read (attention)")
        if copySlowdown != nil || kernelSlowdown != nil {
            lines += ["", "[calibration.contention]           # time together / time alone; kernels that start during a copy are slowed by kernel_slowdown"]
            if let copySlowdown { lines.append("copy_slowdown = \(TOMLValue.float(copySlowdown))") }
            if let kernelSlowdown { lines.append("kernel_slowdown = \(TOMLValue.float(kernelSlowdown))") }
        }
        for (name, tables) in [("expert_ffn", expertCalibration), ("attention_tokens", attentionTokenCalibration)] {
            for model in tables.keys.sorted() {
                let table = tables[model]!
                lines += ["", "[calibration.\(name).\(model)]",
                          "tokens = \(TOMLValue.array(table.tokens.map { .integer($0) }))",
                          "ns = \(TOMLValue.array(table.nanoseconds.map { .float($0) }))"]
            }
        }
        for model in hostExpertCalibration.keys.sorted() {
            let calibration = hostExpertCalibration[model]!
            lines += ["", "[calibration.host_expert_ffn.\(model)]   # one expert on the host CPU, timed with the engine's kernel",
                      "kernel = \(TOMLValue.quoted(calibration.kernel))",
                      "expert_bytes = \(calibration.expertBytes)",
                      "tokens = \(TOMLValue.array(calibration.table.tokens.map { .integer($0) }))",
                      "ns = \(TOMLValue.array(calibration.table.nanoseconds.map { .float($0) }))"]
        }
        func countTables(_ name: String, word: String, _ calibrations: [String: GroupedCalibration]) {
            for model in calibrations.keys.sorted() {
                let calibration = calibrations[model]!
                for (count, table) in zip(calibration.expertCounts, calibration.tables) {
                    lines += ["", "[calibration.\(name).\(model).\(word)_\(count)]",
                              "tokens = \(TOMLValue.array(table.tokens.map { .integer($0) }))",
                              "ns = \(TOMLValue.array(table.nanoseconds.map { .float($0) }))"]
                }
            }
        }
        countTables("grouped_ffn", word: "experts", groupedCalibration)
        countTables("concurrent_ffn", word: "streams", concurrentCalibration)
        countTables("concurrent_ffn_gpu", word: "streams", concurrentGPUCalibration)
        for name in frameworkCosts.keys.sorted() {
            let costs = frameworkCosts[name]!
            lines += ["", "[framework.\(name)]   # the host's operations through this framework, for engines whose host code runs in it",
                      "launch_ns = \(costs.launchNs)  # one small eager operation issued",
                      "sync_ns = \(costs.syncNs)  # an operation's few bytes read on the host, less one launch",
                      "copy_call_ns = \(costs.copyCallNs)  # one non-blocking host-to-device copy issued",
                      "measured_on = \(TOMLValue.quoted(costs.measuredOn))"]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
