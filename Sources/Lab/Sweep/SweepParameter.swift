import TOML
import TraceStore

/// A parameter a sweep may set or vary, with the type its values must have.
public enum SweepParameter: String, CaseIterable, Sendable, Comparable {
    case trace, model, hardware, engine, policy, eviction, admission, predictor
    case lookupOrder = "lookup_order"
    case expertDType = "expert_dtype"
    case busGBps = "bus_gbps"
    case copyLatencyNs = "copy_latency_ns"
    case copyEngines = "copy_engines"
    case chunkBytes = "chunk_bytes"
    case cacheMiB = "cache_mib"
    case cacheFraction = "cache_fraction"
    case partitioned, batch, seed, recall, lookahead, widen, context
    case prefillAsDecode = "prefill_as_decode"
    case hostMemoryGBps = "host_memory_gbps"
    case hostExpertLayers = "host_expert_layers"
    case prefillChunkTokens = "prefill_chunk_tokens"
    case cpuExpertsBelowTokens = "cpu_experts_below_tokens"
    case engineSet = "engine_set"

    /// The TOML type a value must have.
    public enum Kind: Sendable { case string, number, integer, bool }

    /// This parameter's value type.
    public var kind: Kind {
        switch self {
        case .trace, .model, .hardware, .engine, .policy, .eviction, .admission, .lookupOrder, .predictor, .expertDType, .engineSet: .string
        case .busGBps, .copyLatencyNs, .cacheMiB, .cacheFraction, .recall, .widen, .hostMemoryGBps: .number
        case .copyEngines, .chunkBytes, .batch, .seed, .lookahead, .context, .hostExpertLayers, .prefillChunkTokens, .cpuExpertsBelowTokens: .integer
        case .partitioned, .prefillAsDecode: .bool
        }
    }

    /// What it means, for `--help` and error messages.
    public var summary: String {
        switch self {
        case .trace: "trace file"
        case .model: "model preset"
        case .hardware: "hardware preset or profile file"
        case .engine: "serving engine name or engine file"
        case .policy: "policy name or policy file"
        case .eviction: "eviction rule"
        case .admission: "cache admission: hard-cap or after-batch"
        case .lookupOrder: "order of a layer's lookups: id or rank"
        case .predictor: "the policy's predictor"
        case .expertDType: "size experts as the preset in this type"
        case .busGBps: "host-to-device bandwidth, GB/s"
        case .copyLatencyNs: "per-copy latency, ns"
        case .copyEngines: "concurrent copies"
        case .chunkBytes: "prefetch chunk size, bytes"
        case .cacheMiB: "expert cache, MiB (0: none)"
        case .cacheFraction: "expert cache as a share of the trace's working set (all distinct experts it routes to)"
        case .partitioned: "split the cache per layer"
        case .batch: "sequences per batch"
        case .seed: "seed of the run's random streams"
        case .recall: "recall of a parametric predictor"
        case .lookahead: "layers ahead the predictor looks"
        case .widen: "experts predicted per token: k × widen"
        case .prefillAsDecode: "replay prompt tokens one per step"
        case .context: "tokens in each sequence's KV cache when decoding starts"
        case .hostMemoryGBps: "host memory bandwidth a CPU expert reaches, GB/s (the profile's host.memory_gbps)"
        case .hostExpertLayers: "layers, from the first, whose experts stay in host memory, the rest on the GPU (the engine's host_expert_layers, llama.cpp's --n-cpu-moe)"
        case .prefillChunkTokens: "prompt tokens a prefill step takes at most (the engine's prefill_chunk_tokens)"
        case .cpuExpertsBelowTokens: "steps of fewer tokens compute the experts not on the GPU on the CPU (the engine's cpu_experts_below_tokens; 0: never)"
        case .engineSet: "terms of the engine set for the point, as `--engine-set` takes them: KEY=VALUE, several joined by ';' (e.g. \"expert_sync_ns=0; router_sync_ns=0\")"
        }
    }

    /// The values a numeric parameter accepts (README "Input ranges"); nil for names and flags.
    public var validRange: ClosedRange<Double>? {
        func widen(_ range: ClosedRange<Int>) -> ClosedRange<Double> { Double(range.lowerBound)...Double(range.upperBound) }
        switch self {
        case .busGBps: return ValidRange.gbps
        case .copyLatencyNs: return widen(ValidRange.costNs)
        case .cacheMiB: return ValidRange.cacheMiB
        case .cacheFraction: return ValidRange.cacheFraction
        case .recall: return ValidRange.recall
        case .widen: return ValidRange.widen
        case .copyEngines: return widen(ValidRange.copyEngines)
        case .chunkBytes: return widen(ValidRange.chunkBytes)
        case .batch: return widen(ValidRange.batch)
        case .seed: return 0...Double(Int.max)
        case .lookahead: return 1...4_096
        case .context: return widen(ValidRange.context)
        case .hostMemoryGBps: return ValidRange.gbps
        case .hostExpertLayers: return widen(ValidRange.hostExpertLayers)
        case .prefillChunkTokens: return widen(ValidRange.prefillChunkTokens)
        case .cpuExpertsBelowTokens: return widen(ValidRange.cpuExpertsBelowTokens)
        case .trace, .model, .hardware, .engine, .policy, .eviction, .admission, .lookupOrder, .predictor, .expertDType,
             .partitioned, .prefillAsDecode, .engineSet:
            return nil
        }
    }

    /// What is wrong with `value` for this parameter ("is -100.0; valid: 0…1099511627776"), nil when it is in range.
    public func problem(with value: SweepValue) -> String? {
        guard let range = validRange, let number = value.number else { return nil }
        return number.isFinite && range.contains(number) ? nil : "is \(value.json); valid: \(ValidRange.text(range))"
    }

    public static func < (a: SweepParameter, b: SweepParameter) -> Bool { a.rawValue < b.rawValue }
}

/// One value of a sweep parameter.
public enum SweepValue: Sendable, Hashable {
    case string(String)
    case number(Double)
    case integer(Int)
    case bool(Bool)

    /// The value as canonical JSON text (the form hashed into a point's identity).
    public var json: String {
        switch self {
        case .string(let text):
            // TOML's basic-string escapes (\", \\, \n, \t, \r, \uXXXX) are valid JSON too.
            return TOMLValue.quoted(text)
        case .number(let value): return value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) + ".0" : "\(value)"
        case .integer(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        }
    }

    /// The number (integers widen), if numeric.
    public var number: Double? {
        switch self {
        case .number(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }

    /// The text, if a string.
    public var string: String? { if case .string(let text) = self { text } else { nil } }
}
