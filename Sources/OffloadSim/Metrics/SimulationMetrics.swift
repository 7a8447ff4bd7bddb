/// Every figure a run produces, defined once here and used by the simulator, the
/// reports and (later) the CUDA backend's replay.
///
/// Definitions:
/// - **TPOT** (time per output token): for each generated token after a sequence's
///   first, the time since that sequence's previous token; mean, p50, p99 over tokens.
/// - **TTFT**: from a sequence's admission into the batch (the trace has no arrival
///   times) to the end of the step that produces its first token.
/// - **tokens/s**: output tokens (first tokens and generated tokens) over the makespan.
/// - **stall share**: time the compute stream waits for copies, over the makespan
///   (`decode_stall_share`: over decode steps' time only).
/// - **host wait share**: time the compute stream had work but waited for the host to
///   launch it (an engine's host syncs and copy calls), over the makespan.
/// - **bus busy share**: time at least one copy engine is occupied, over the makespan.
/// - **GPU busy share**: time the compute stream runs an operation (a kernel, the draft
///   model included) less the operations' launch gaps (the cost model's launch time per
///   kernel, in which the host launches and no kernel runs), over the makespan: the share of
///   time at least one kernel runs, which is what NVML's `utilization.gpu` reports and what
///   arXiv 2605.11537's artifact samples as GPU utilisation (moe-mpmc
///   `src/utils/manager.py`, `GPUMon`: GPUtil's `load` every 0.1 s).
/// - **GPU busy share with the model's load**: the same busy time over the time to move to the
///   GPU what it holds at the start (``ModelLoad``, no kernel running) plus the makespan: what
///   that artifact's block measures, which moves the model to the GPU before its forwards.
/// - **bytes moved**: demand + prefetch bytes submitted to the bus; **wasted**: prefetched
///   bytes of experts evicted or cancelled before their first use.
/// - **hit rate**: one lookup per distinct expert per layer per step; a hit finds the
///   expert resident (an expert still being prefetched is a miss, counted apart as an
///   in-flight lookup: its copy was already under way); decode-only too.
/// - **routing fidelity**: share of the true gate weight (routed decisions where the trace
///   has no weights) computed with the true experts; below 1 only under speculation.
public struct SimulationMetrics: Sendable {
    /// Simulated time from the first step's start to the last step's end, ns.
    public internal(set) var makespanNs: Nanoseconds = 0
    /// Steps run.
    public internal(set) var steps = 0
    /// Prefill steps.
    public internal(set) var prefillSteps = 0
    /// Decode steps.
    public internal(set) var decodeSteps = 0
    /// Tokens processed (prompt and generated).
    public internal(set) var tokens = 0
    /// Output tokens (first tokens and later generated tokens).
    public internal(set) var outputTokens = 0
    /// Routed decisions replayed (tokens × layers × top-k).
    public internal(set) var decisions = 0
    /// Time per output token samples.
    public internal(set) var tpot = LatencyHistogram()
    /// Time to first token samples.
    public internal(set) var ttft = LatencyHistogram()
    /// Compute-stream time waiting on copies, ns.
    public internal(set) var stallNs: Nanoseconds = 0
    /// Stall time within decode steps, ns.
    public internal(set) var decodeStallNs: Nanoseconds = 0
    /// Time spent in decode steps, ns.
    public internal(set) var decodeNs: Nanoseconds = 0
    /// Compute-stream busy time, ns.
    public internal(set) var computeNs: Nanoseconds = 0
    /// The part of ``computeNs`` that is launch gaps: the operations' kernel launches, during
    /// which no kernel runs (``GPUCompute/expertLaunchNanoseconds`` and its kin; none inside
    /// what a calibrated table times), ns.
    public internal(set) var launchGapNs: Nanoseconds = 0
    /// Time the compute stream had work but waited for the host to launch it (host syncs and
    /// copy calls of the engine), ns.
    public internal(set) var hostWaitNs: Nanoseconds = 0
    /// Time at least one copy engine was occupied, ns.
    public internal(set) var busBusyNs: Nanoseconds = 0
    /// Time to move to the GPU, before the first step, the weights it holds when the run
    /// starts (``ModelLoad``), ns; outside the makespan.
    public internal(set) var modelLoadNs: Nanoseconds = 0
    /// Whether ``modelLoadNs`` is priced at the profile's pageable rate; false: at its pinned
    /// rate, the profile having no pageable figure (a lower bound on the load).
    public internal(set) var modelLoadAtPageableRate = false
    /// Bytes copied on demand.
    public internal(set) var demandBytes = 0
    /// Bytes prefetched.
    public internal(set) var prefetchBytes = 0
    /// Prefetched bytes evicted or cancelled before use.
    public internal(set) var wastedBytes = 0
    /// Experts streamed through a staging buffer (no cache slot).
    public internal(set) var stagedExperts = 0
    /// Experts evicted from the cache.
    public internal(set) var evictions = 0
    /// Gate weight computed with the true experts.
    public internal(set) var exactGateMass = 0.0
    /// All routed gate weight.
    public internal(set) var totalGateMass = 0.0
    /// Lookups that found their expert's copy already under way (a late prefetch).
    public internal(set) var inFlightLookups = 0
    /// Experts computed on the host CPU.
    public internal(set) var cpuExperts = 0
    /// Host CPU busy time, ns.
    public internal(set) var cpuNs: Nanoseconds = 0
    /// Experts fetched as low-precision copies.
    public internal(set) var lowPrecisionExperts = 0
    /// Per-layer figures.
    public internal(set) var layers: [LayerMetrics]

    init(layers: Int) { self.layers = Array(repeating: LayerMetrics(), count: layers) }

    /// Expert lookups, all layers.
    public var lookups: Int { layers.reduce(0) { $0 + $1.lookups } }
    /// Hits over lookups.
    public var hitRate: Double { ratio(layers.reduce(0) { $0 + $1.hits }, lookups) }
    /// Hits over lookups in decode steps.
    public var decodeHitRate: Double { ratio(layers.reduce(0) { $0 + $1.decodeHits }, layers.reduce(0) { $0 + $1.decodeLookups }) }
    /// Demand and prefetch bytes.
    public var bytesMoved: Int { demandBytes + prefetchBytes }
    /// Stall time over makespan.
    public var stallShare: Double { ratio(stallNs, makespanNs) }
    /// Time the compute stream waited for the host to launch its work, over the makespan.
    public var hostWaitShare: Double { ratio(hostWaitNs, makespanNs) }
    /// Stall time over decode time.
    public var decodeStallShare: Double { ratio(decodeStallNs, decodeNs) }
    /// Compute-stream busy time less its launch gaps, over makespan: the share of time at
    /// least one kernel runs.
    public var gpuBusyShare: Double { ratio(computeNs - launchGapNs, makespanNs) }
    /// The GPU busy share over the model's load and the makespan together: GPU utilisation as
    /// a measurement counts it that times moving the model to the GPU with the run, as arXiv
    /// 2605.11537's artifact does (``ModelLoad``).
    public var gpuBusyShareWithLoad: Double { ratio(computeNs - launchGapNs, makespanNs + modelLoadNs) }
    /// Bus busy time over makespan.
    public var busBusyShare: Double { ratio(busBusyNs, makespanNs) }
    /// In-flight lookups over lookups.
    public var inFlightRate: Double { ratio(inFlightLookups, lookups) }
    /// Exact over total gate weight (1 when nothing was substituted).
    public var routingFidelity: Double { totalGateMass == 0 ? 1 : exactGateMass / totalGateMass }
    /// Output tokens per second of makespan.
    public var tokensPerSecond: Double { makespanNs == 0 ? 0 : Double(outputTokens) / (Double(makespanNs) / 1e9) }

    private func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
    private func ratio(_ a: Nanoseconds, _ b: Nanoseconds) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
}
