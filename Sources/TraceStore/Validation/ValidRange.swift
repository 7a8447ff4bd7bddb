/// The ranges every number that enters moesim is checked against where it enters (trace
/// metadata and payloads, hardware profiles, engine and policy files, sweep specs, command-line
/// options); README "Input ranges" lists them. The bounds are far outside any real system, and
/// chosen so that the arithmetic of an accepted run cannot overflow (bytes and nanoseconds are
/// 64-bit integers).
public enum ValidRange {
    /// Bytes of one expert (a trace's `expert_bytes`): up to 16 GiB.
    public static let expertBytes = 1...(1 << 34)
    /// Bytes of all routed experts of a model: 4 PiB. Every copy a step makes is one of
    /// them, so a step adds at most twice this to a byte counter.
    public static let routedExpertBytes = 1 << 52
    /// A model's hidden size or an expert's intermediate size.
    public static let hiddenSize = 1...(1 << 22)
    /// Experts of a model, all layers: 2^24 (the simulator and statistics keep state per expert).
    public static let expertSlots = 1 << 24
    /// Tokens in one chunk of a trace (`chunk_tokens`; `trace import --chunk-tokens`).
    public static let chunkTokens = 1...(1 << 20)
    /// Routed decisions in one chunk (tokens × layers × top-k): 2^28, so that a chunk's
    /// decoded payloads stay below about 1 GiB whatever its metadata claims.
    public static let chunkDecisions = 1 << 28
    /// A count in a trace's metadata (tokens, sequences, chunks).
    public static let traceCount = 0...(1 << 40)
    /// Bytes of one layer's dense weights.
    public static let denseBytes = 0...(1 << 40)
    /// A bandwidth in GB/s (bus, HBM, host memory).
    public static let gbps = 1e-3...1e6
    /// A throughput in TFLOP/s (down to a MFLOP/s: a debug build's measured host rate can be
    /// below a GFLOP/s, and the profile it writes must read back).
    public static let tflops = 1e-6...1e7
    /// GPU memory in GiB (0: unknown).
    public static let memoryGiB = 0.0...1e6
    /// An achieved share of a datasheet figure.
    public static let efficiency = 1e-3...1.0
    /// A fixed host or device cost in ns (launch, copy latency, sync): up to 1 s.
    public static let costNs = 0...1_000_000_000
    /// Kernels per operation.
    public static let kernels = 1...10_000
    /// Concurrent copy engines.
    public static let copyEngines = 1...64
    /// Prefetch chunk size in bytes (0: whole copies).
    public static let chunkBytes = 0...(1 << 40)
    /// An expert cache in bytes.
    public static let cacheBytes = 0...(1 << 60)
    /// An expert cache in MiB (sweeps' `cache_mib`; 0: none).
    public static let cacheMiB = 0.0...Double(1 << 40)
    /// A cache as a share of the trace's working set (sweeps' `cache_fraction`; 0: none).
    public static let cacheFraction = 0.0...1.0
    /// Sequences per batch.
    public static let batch = 1...65_536
    /// Tokens of context already in the KV cache.
    public static let context = 0...(1 << 30)
    /// Layers whose experts an engine keeps in host memory (engines' `host_expert_layers`; the
    /// most layers a model may have).
    public static let hostExpertLayers = 0...4_096
    /// Prompt tokens a prefill step takes at most (engines' `prefill_chunk_tokens`).
    public static let prefillChunkTokens = 1...(1 << 20)
    /// The step size below which an engine computes experts on the CPU (engines' `cpu_experts_below_tokens`).
    public static let cpuExpertsBelowTokens = 0...(1 << 20)
    /// A gate weight: a non-negative probability-like score that fp16 holds (its largest
    /// finite value is 65504). NaN and infinities fall outside.
    public static let gateWeight: ClosedRange<Float> = 0...65_504
    /// A predictor's recall.
    public static let recall = 0.0...1.0
    /// Experts predicted per token, as a multiple of top-k.
    public static let widen = 1.0...1_024.0
    /// How much slower an operation runs while another overlaps it.
    public static let slowdown = 1.0...100.0
    /// A measured time in a calibration table, ns.
    public static let measuredNs = 0.0...1e12
    /// A sweep's points before it asks for confirmation (`--yes` or `max_points`).
    public static let sweepPointsWithoutAsking = 100_000

    /// "1…16" or "0.001…1000000" for messages.
    public static func text(_ range: ClosedRange<Int>) -> String { "\(range.lowerBound)…\(range.upperBound)" }
    public static func text(_ range: ClosedRange<Double>) -> String { "\(short(range.lowerBound))…\(short(range.upperBound))" }
    public static func text(_ range: ClosedRange<Float>) -> String { text(Double(range.lowerBound)...Double(range.upperBound)) }

    private static func short(_ value: Double) -> String {
        if value >= Double(Int.max) { return "2^63−1" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }
}
