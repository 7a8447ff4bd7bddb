import OffloadSim

/// A named policy as a file in `policies/` describes it: a mechanism (one Swift type)
/// composed with a predictor, a lookahead and widening, a cache and its eviction, an
/// execution mode and bus chunking — so that a user adds a policy without writing Swift.
public struct PolicySpec: Sendable, Equatable {
    /// The mechanisms a spec can name.
    public enum Mechanism: String, Sendable, CaseIterable {
        /// Fetch on demand only.
        case onDemand = "on-demand"
        /// Prefetch predicted experts; fetch mispredictions exactly (``CrossLayerPrefetchPolicy``).
        case prefetch
        /// Execute the predicted experts (``SpeculativeExecutionPolicy``).
        case speculative
        /// Compute misses on the CPU (``CPUFallbackPolicy``).
        case cpuFallback = "cpu-fallback"
        /// Fetch low-weight misses in low precision (``LowPrecisionFetchPolicy``).
        case lowPrecision = "low-precision"
        /// Everything resident (``AllResidentPolicy``).
        case allResident = "all-resident"
        /// Speculative decoding with a draft model, optionally prefetching during drafting (``SpeculativeDecodingPolicy``).
        case speculativeDecoding = "speculative-decoding"
        /// Expert parallelism over several GPUs, optionally replicating experts predicted to be overloaded (``ExpertParallelSimulation``).
        case expertParallel = "expert-parallel"
        /// One GPU: predicted experts loaded before each batch and executed, predicted-hot
        /// experts replicated onto concurrent streams (``PredictiveReplicationPolicy``).
        case predictiveReplication = "predictive-replication"

        /// Whether the mechanism consults a predictor.
        public var usesPredictor: Bool {
            self == .prefetch || self == .speculative || self == .speculativeDecoding || self == .predictiveReplication
        }

        /// Whether the mechanism predicts a whole batch before any of its layers runs (so only
        /// predictors that need none of the batch's routing can serve it).
        public var predictsWholeBatch: Bool { self == .speculativeDecoding || self == .predictiveReplication }
    }

    /// Name, as `--policy` takes it.
    public var name: String
    /// One line for `moesim policies`.
    public var description: String
    /// The paper or system it follows.
    public var paper: String
    /// The mechanism.
    public var mechanism: Mechanism
    /// Predictor name (see ``PredictorCatalog/names``), for mechanisms that use one.
    public var predictor: String?
    /// Recall of the parametric predictor.
    public var recall: Double?
    /// Per target layer recall of the parametric predictor (the last value covers deeper layers).
    public var layerRecall: [Double]?
    /// Layers ahead the prediction is made.
    public var lookahead: Int = 1
    /// Experts predicted per token: k × widen.
    public var widen: Double = 1
    /// Cache budget in MiB (the command line's `--cache-mib` overrides it).
    public var cacheMiB: Double?
    /// Cache budget as a number of experts (of the largest size) per layer, e.g. mixtral-offloading's.
    public var cacheExpertsPerLayer: Int?
    /// Eviction rule.
    public var eviction: EvictionPolicy?
    /// Whether the cache is split per layer.
    public var partitioned = false
    /// Order of a layer's experts.
    public var order: ExpertOrder = .ascendingID
    /// Layers that keep exact routing under speculation.
    public var exactLayers: [Int] = []
    /// Share of its tokens' top-k gate weight under which a miss is fetched in low precision.
    public var lowPrecisionBelow: Double = 0.1
    /// Bytes of a low-precision copy relative to the full expert.
    public var lowPrecisionRatio: Double = 4.25 / 16
    /// Bus chunk size for this policy's runs (overrides the hardware profile's).
    public var chunkBytes: Int?
    /// Speculative decoding: draft tokens per step.
    public var draftTokens = 4
    /// Speculative decoding: draft model time per token, ns.
    public var draftNanosecondsPerToken: Int = 2_000_000
    /// Speculative decoding: probability that a draft token is accepted.
    public var acceptance = 0.7
    /// Speculative decoding: prefetch the target's experts while drafting (SP-MoE).
    public var prefetchDuringDraft = true
    /// Expert parallelism: GPUs.
    public var gpus = 4
    /// Expert parallelism: per-direction interconnect bandwidth, GB/s.
    public var interconnectGBps = 450.0
    /// Expert parallelism: replicate predicted overloaded experts.
    public var replicate = false
    /// Expert parallelism: extra expert copies per GPU per layer.
    public var replicaSlots = 2
    /// Predictive replication: memory for all replicas together, MiB.
    public var replicaMemoryMiB = 4_096.0
    /// Predictive replication: an expert is replicated while its predicted tokens per copy
    /// exceed (1 + threshold) × its layer's mean over active experts.
    public var replicaThreshold = 1.0
    /// Predictive replication: most copies of one expert, the original included (0: the engine's streams).
    public var maxCopies = 0
    /// Predictive replication: every expert on the GPU before the first batch (the artifact's timing convention).
    public var preloadExperts = false

    /// Creates a spec.
    public init(name: String, description: String, paper: String, mechanism: Mechanism) {
        self.name = name
        self.description = description
        self.paper = paper
        self.mechanism = mechanism
    }
}
