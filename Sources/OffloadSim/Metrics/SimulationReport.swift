import TraceStore

/// What a run assumed, as every result states it (DESIGN.md §5, "Honesty").
public struct RunDescription: Sendable, Encodable, Equatable {
    /// Path of the trace.
    public var trace: String
    /// "real" or "synthetic".
    public var traceKind: String
    /// The trace's source.
    public var traceSource: String
    /// Model name.
    public var model: String
    /// Hardware profile label: preset name, or the GPU it was calibrated on.
    public var hardware: String
    /// The serving engine simulated ("moesim (moesim streaming engine)", "yalis (…)").
    public var engine: String
    /// Policy name.
    public var policy: String
    /// Predictor the policy assumed ("none" for on-demand).
    public var predictor: String
    /// Cache budget in bytes (0: no cache, double-buffered streaming).
    public var cacheBytes: Int
    /// Eviction rule ("none" without cache).
    public var eviction: String
    /// Sequences per batch.
    public var batch: Int
    /// Whether prompt tokens were replayed one per step.
    public var prefillAsDecode: Bool
    /// Notes: overridden top-k, estimated model numbers.
    public var notes: [String]

    /// Creates a description.
    public init(trace: String, traceKind: String, traceSource: String, model: String, hardware: String,
                engine: String = ServingEngine.moesim.label, policy: String,
                predictor: String, cacheBytes: Int, eviction: String, batch: Int, prefillAsDecode: Bool, notes: [String]) {
        self.trace = trace
        self.traceKind = traceKind
        self.traceSource = traceSource
        self.model = model
        self.hardware = hardware
        self.engine = engine
        self.policy = policy
        self.predictor = predictor
        self.cacheBytes = cacheBytes
        self.eviction = eviction
        self.batch = batch
        self.prefillAsDecode = prefillAsDecode
        self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case trace, traceKind = "trace_kind", traceSource = "trace_source", model, hardware, engine, policy, predictor
        case cacheBytes = "cache_bytes", eviction, batch, prefillAsDecode = "prefill_as_decode", notes
    }
}

/// A run's description and metrics, with the stable keys of `moesim simulate --json`
/// (listed in README "simulate --json"): times in milliseconds, shares in 0…1, bytes as
/// integers; TPOT and TTFT are null when the run produced no such sample.
public struct SimulationReport: Sendable, Encodable {
    /// What was assumed.
    public var run: RunDescription
    /// The figures.
    public var metrics: SimulationMetrics
    /// Per-GPU figures of an expert-parallel run.
    public var parallel: ExpertParallelMetrics?

    /// Pairs a description with metrics.
    public init(run: RunDescription, metrics: SimulationMetrics, parallel: ExpertParallelMetrics? = nil) {
        self.run = run
        self.metrics = metrics
        self.parallel = parallel
    }

    enum CodingKeys: String, CodingKey {
        case run, tpotMs = "tpot_ms", tpotP50Ms = "tpot_p50_ms", tpotP99Ms = "tpot_p99_ms", ttftMs = "ttft_ms"
        case ttftP99Ms = "ttft_p99_ms", tokensPerS = "tokens_per_s", stallShare = "stall_share"
        case decodeStallShare = "decode_stall_share", hostWaitShare = "host_wait_share", busBusyShare = "bus_busy_share", gpuBusyShare = "gpu_busy_share"
        case modelLoadMs = "model_load_ms", gpuBusyShareWithLoad = "gpu_busy_share_with_load", hitRate = "hit_rate"
        case decodeHitRate = "decode_hit_rate", bytesMoved = "bytes_moved", bytesDemand = "bytes_demand"
        case bytesPrefetch = "bytes_prefetch", bytesWasted = "bytes_wasted", decisions, steps
        case prefillSteps = "prefill_steps", decodeSteps = "decode_steps", outputTokens = "output_tokens"
        case makespanMs = "makespan_ms", computeMs = "compute_ms", launchGapMs = "launch_gap_ms", stagedExperts = "staged_experts", evictions
        case lookups, layers, fidelity, inFlightRate = "in_flight_rate", parallel = "expert_parallel", cpuExperts = "cpu_experts", lowPrecisionExperts = "low_precision_experts"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let m = metrics
        func ms(_ ns: Double?) -> Double? { ns.map { $0 / 1e6 } }
        try c.encode(run, forKey: .run)
        try c.encode(ms(m.tpot.mean), forKey: .tpotMs)
        try c.encode(ms(m.tpot.quantile(0.5)), forKey: .tpotP50Ms)
        try c.encode(ms(m.tpot.quantile(0.99)), forKey: .tpotP99Ms)
        try c.encode(ms(m.ttft.mean), forKey: .ttftMs)
        try c.encode(ms(m.ttft.quantile(0.99)), forKey: .ttftP99Ms)
        try c.encode(m.tokensPerSecond, forKey: .tokensPerS)
        try c.encode(m.stallShare, forKey: .stallShare)
        try c.encode(m.decodeStallShare, forKey: .decodeStallShare)
        try c.encode(m.hostWaitShare, forKey: .hostWaitShare)
        try c.encode(m.busBusyShare, forKey: .busBusyShare)
        // One GPU's figure; an expert-parallel run has several, each in `expert_parallel`.
        try c.encode(parallel == nil ? m.gpuBusyShare : nil, forKey: .gpuBusyShare)
        try c.encode(parallel == nil ? Units.milliseconds(m.modelLoadNs) : nil, forKey: .modelLoadMs)
        try c.encode(parallel == nil ? m.gpuBusyShareWithLoad : nil, forKey: .gpuBusyShareWithLoad)
        try c.encode(m.hitRate, forKey: .hitRate)
        try c.encode(m.decodeHitRate, forKey: .decodeHitRate)
        try c.encode(m.bytesMoved, forKey: .bytesMoved)
        try c.encode(m.demandBytes, forKey: .bytesDemand)
        try c.encode(m.prefetchBytes, forKey: .bytesPrefetch)
        try c.encode(m.wastedBytes, forKey: .bytesWasted)
        try c.encode(m.decisions, forKey: .decisions)
        try c.encode(m.steps, forKey: .steps)
        try c.encode(m.prefillSteps, forKey: .prefillSteps)
        try c.encode(m.decodeSteps, forKey: .decodeSteps)
        try c.encode(m.outputTokens, forKey: .outputTokens)
        try c.encode(Units.milliseconds(m.makespanNs), forKey: .makespanMs)
        try c.encode(Units.milliseconds(m.computeNs), forKey: .computeMs)
        try c.encode(Units.milliseconds(m.launchGapNs), forKey: .launchGapMs)
        try c.encode(m.stagedExperts, forKey: .stagedExperts)
        try c.encode(m.evictions, forKey: .evictions)
        try c.encode(m.lookups, forKey: .lookups)
        try c.encode(m.routingFidelity, forKey: .fidelity)
        try c.encode(m.inFlightRate, forKey: .inFlightRate)
        try c.encode(m.cpuExperts, forKey: .cpuExperts)
        try c.encode(m.lowPrecisionExperts, forKey: .lowPrecisionExperts)
        try c.encode(m.layers, forKey: .layers)
        try c.encodeIfPresent(parallel, forKey: .parallel)
    }
}
