import OffloadSim
import TraceStore

/// Runs named policies (``PolicySpec``) by building the mechanism a spec names, with its
/// predictor trained on the trace's training split, while keeping the engine specialised
/// to the concrete policy type.
public enum PolicyCatalog {
    /// Names of the built-in policies, as `--policy` takes them.
    public static var names: [String] { PolicySpec.builtIns.map(\.name) }

    /// What the command line may override in a spec.
    public struct Overrides: Sendable {
        /// Cache budget in bytes (nil: the spec's).
        public var cacheBytes: Int?
        /// Eviction rule (nil: the spec's, else LRU).
        public var eviction: EvictionPolicy?
        /// Share of sequences held out when a predictor learns.
        public var testFraction: Double
        /// Run on this split's test sequences whatever the policy (for comparisons); nil: only learned predictors restrict the run.
        public var split: SequenceSplit?

        /// Overrides.
        public init(cacheBytes: Int? = nil, eviction: EvictionPolicy? = nil, testFraction: Double = 0.3, split: SequenceSplit? = nil) {
            self.cacheBytes = cacheBytes
            self.eviction = eviction
            self.testFraction = testFraction
            self.split = split
        }
    }

    /// What a run returns.
    public struct Result {
        /// The policy's name.
        public var policyName: String
        /// The predictor it assumed.
        public var predictorName: String
        /// The figures.
        public var metrics: SimulationMetrics
        /// The recorded timeline.
        public var timeline: TimelineRecorder
        /// The cache the run used, bytes.
        public var cacheBytes: Int
        /// Its eviction rule ("none" without cache).
        public var eviction: String
        /// What the run decided on the user's behalf.
        public var notes: [String]
        /// The trained predictor's split, when one was used.
        public var split: SequenceSplit?
        /// Per-GPU figures of an expert-parallel run.
        public var parallel: ExpertParallelMetrics?
        /// The GPU operations of the first `replaySteps` steps (empty unless asked for).
        public var replay = ReplaySchedule()
    }

    /// The expert cache a run of `spec` uses, bytes: the override, else the spec's own, else
    /// (for policies that prefetch) a prefetch buffer — what drafting time can fill plus two
    /// layers under speculative decoding, else the engine's buffer sets (``ServingEngine/bufferSets``;
    /// lookahead + 1 layers when the engine sizes them to the policy) of `width` experts each.
    /// `implicit` says the size is such a buffer rather than a cache anyone asked for.
    public static func plannedCache(_ spec: PolicySpec, model: ModelCost, profile: HardwareProfile, engine: ServingEngine, topK: Int,
                                    overrides: Overrides) -> (bytes: Int, implicit: Bool, note: String?) {
        let largest = model.expertBytes.max()!
        let width = min(model.experts, Int((Double(topK) * spec.widen).rounded(.up)))
        let asked = overrides.cacheBytes ?? spec.cacheMiB.map { Int(($0 * Double(Units.mebibyte)).rounded()) }
            ?? spec.cacheExpertsPerLayer.map { $0 * largest * model.layers } ?? 0
        if asked > 0 || spec.mechanism == .allResident { return (asked, false, nil) }
        if spec.mechanism == .speculativeDecoding && spec.prefetchDuringDraft {
            let drafting = Double(spec.draftTokens * spec.draftNanosecondsPerToken) * profile.link.gbps
            let bytes = Int(drafting) + 2 * (spec.draftTokens + 1) * topK * largest
            return (bytes, true, "no cache given: a prefetch buffer of \(Format.bytes(bytes)) (what drafting time can fill, plus two layers)")
        }
        if spec.mechanism == .predictiveReplication {
            let bytes = model.expertBytes.reduce(0, +) * model.experts
            return (bytes, true, "no cache given: room for every expert (\(Format.bytes(bytes))); predicted experts stay until evicted")
        }
        guard spec.mechanism.usesPredictor && spec.mechanism != .speculativeDecoding else { return (0, false, nil) }
        let layers = engine.bufferSets ?? spec.lookahead + 1
        let bytes = layers * width * largest
        let whose = engine.bufferSets == nil ? "" : ", the \(engine.name) engine's \(layers) buffer sets"
        return (bytes, true, "no cache given: a prefetch buffer of \(layers * width) experts (\(Format.bytes(bytes))\(whose))")
    }

    /// Refuses a predictor lookahead that reaches past the model's last layer (a policy file's
    /// `predictor.lookahead` is checked against 1…4096 when read; the model is known only here).
    public static func checkLookahead(_ spec: PolicySpec, model: ModelCost) throws {
        guard spec.mechanism.usesPredictor && !spec.mechanism.predictsWholeBatch && spec.lookahead >= model.layers else { return }
        throw TraceStoreError(file: "policy '\(spec.name)'", place: "predictor.lookahead",
                              problem: "is \(spec.lookahead), but \(model.name) has \(model.layers) MoE layers: nothing lies that far ahead",
                              fix: "Give a lookahead of 1…\(max(1, model.layers - 1)).")
    }

    /// Refuses an engine that runs every expert of a layer (capacity dispatch) under a policy
    /// that does not keep every expert resident.
    public static func checkEngine(_ spec: PolicySpec, engine: ServingEngine) throws {
        let preloads = spec.mechanism == .allResident || (spec.mechanism == .predictiveReplication && spec.preloadExperts)
        guard engine.runsEveryExpert && !preloads else { return }
        throw TraceStoreError(file: "--engine \(engine.name)", problem: "runs every expert of a layer at capacity, which needs them all resident, but policy '\(spec.name)' offloads them",
                              fix: "Use --policy all-resident (or predictive-replication with replication.preload = true), or an engine whose capacity_factor is \"routed\".")
    }

    /// Runs `spec` over `base` (trace, model, hardware, options), applying `overrides`.
    public static func run<Source: RoutingSource>(_ spec: PolicySpec, _ base: SimulationRun<Source>, overrides: Overrides) throws -> Result {
        var run = base
        var notes: [String] = []
        let model = run.model
        let topK = run.source.shape.topK
        let width = min(model.experts, Int((Double(topK) * spec.widen).rounded(.up)))
        try checkLookahead(spec, model: model)
        try checkEngine(spec, engine: run.options.engine)
        if spec.mechanism == .speculativeDecoding {
            run.decodeTokensPerStep = spec.draftTokens + 1
        }
        let planned = plannedCache(spec, model: model, profile: run.profile, engine: run.options.engine, topK: topK, overrides: overrides)
        let cacheBytes = planned.bytes
        if let note = planned.note { notes.append(note) }
        run.options.cacheBytes = spec.mechanism == .allResident ? 0 : cacheBytes
        run.options.eviction = overrides.eviction ?? spec.eviction ?? .lru
        run.options.partitioned = run.options.partitioned || spec.partitioned
        if let chunk = spec.chunkBytes { run.profile.link.chunkBytes = chunk }
        if let split = overrides.split { run.sequenceMask = split.test }

        var predictor: ExpertPredictor?
        var split = overrides.split
        if spec.mechanism.usesPredictor, let name = spec.predictor {
            let settings = PredictorCatalog.Settings(recall: spec.recall ?? 0.9, layerRecall: spec.layerRecall, lookaheads: [spec.lookahead],
                                                     seed: run.options.seed, testFraction: overrides.testFraction)
            let prepared = try PredictorCatalog.prepare(name, source: run.source, settings: settings)
            predictor = prepared.predictor
            if name == "recorded" { run.predictionLookaheads = spec.mechanism == .speculative ? [1] : [spec.lookahead] }
            if let learned = prepared.split {
                split = learned
                run.sequenceMask = learned.test
                notes.append("\(name) learned on \(learned.test.count - learned.testCount) training sequences; runs on the \(learned.testCount) held-out ones")
            }
        }
        let shape = run.source.shape
        func execute<Policy: OffloadPolicy>(_ policy: Policy) throws -> Result {
            let (metrics, timeline, replay) = try run.run(policy: policy)
            return Result(policyName: spec.name, predictorName: policy.predictorName, metrics: metrics, timeline: timeline,
                          cacheBytes: run.options.cacheBytes,
                          eviction: run.options.cacheBytes > 0 ? run.options.eviction.rawValue : "none", notes: notes, split: split,
                          parallel: nil, replay: replay)
        }
        switch spec.mechanism {
        case .onDemand:
            return try execute(OnDemandPolicy(name: spec.name))
        case .prefetch:
            return try execute(CrossLayerPrefetchPolicy(name: spec.name, predictor: predictor!, lookahead: spec.lookahead, width: width,
                                                        layers: shape.layers, experts: shape.experts, order: spec.order))
        case .speculative:
            return try execute(SpeculativeExecutionPolicy(name: spec.name, predictor: predictor!, width: width, exactLayers: Set(spec.exactLayers),
                                                          layers: shape.layers, experts: shape.experts, topK: topK))
        case .cpuFallback:
            return try execute(CPUFallbackPolicy(name: spec.name))
        case .lowPrecision:
            if !base.source.hasWeights { notes.append("the trace has no gate weights: every miss is fetched in full") }
            return try execute(LowPrecisionFetchPolicy(name: spec.name, belowWeight: Float(spec.lowPrecisionBelow), byteRatio: spec.lowPrecisionRatio))
        case .allResident:
            return try execute(AllResidentPolicy())
        case .speculativeDecoding:
            let policy = SpeculativeDecodingPolicy(
                name: spec.name, predictor: predictor!, draftTokens: spec.draftTokens,
                draftNanosecondsPerToken: Nanoseconds(spec.draftNanosecondsPerToken), acceptance: spec.acceptance,
                prefetch: spec.prefetchDuringDraft, seed: run.options.seed)
            var result = try execute(policy)
            if spec.prefetchDuringDraft && policy.decodeSteps > 0 {
                result.notes.append("prefetched \(Format.fixed(Double(policy.prefetchedLayers) / Double(policy.decodeSteps), 2)) full layers per step ahead of the verification (cutoff layer from the latency model over drafting and verification compute)")
            }
            return result
        case .predictiveReplication:
            let engine = run.options.engine
            let streams = engine.expertExecution == .concurrentStreams ? engine.expertStreams : 1
            let policy = PredictiveReplicationPolicy(
                name: spec.name, predictor: predictor!, width: width, layers: shape.layers, experts: shape.experts, topK: topK,
                replicates: streams > 1, memoryCapBytes: Int(spec.replicaMemoryMiB * Double(Units.mebibyte)),
                threshold: spec.replicaThreshold, maxCopies: spec.maxCopies > 0 ? spec.maxCopies : streams, preload: spec.preloadExperts)
            var result = try execute(policy)
            result.notes.append(streams > 1
                ? "\(policy.replicaCopies) replica copies over \(policy.batches) batches (cap \(Format.fixed(spec.replicaMemoryMiB, 0)) MiB, threshold \(Format.fixed(spec.replicaThreshold, 2)), at most \(policy.maxCopies) copies per expert)"
                : "no replicas: the \(engine.name) engine runs a layer's experts on one stream (replicas need `experts = \"concurrent-streams\"` with streams > 1)")
            return result
        case .expertParallel:
            let configuration = ExpertParallelConfiguration(gpus: spec.gpus, interconnectGBps: spec.interconnectGBps,
                                                            replicate: spec.replicate, replicaSlots: spec.replicaSlots)
            var simulation = ExpertParallelSimulation(model: run.model, profile: run.profile, configuration: configuration)
            var former = run.makeFormer(engineChunks: false)
            let (metrics, parallel) = try simulation.run(&former)
            notes.append("\(spec.gpus) GPUs of the hardware profile, all experts resident, interconnect \(Format.fixed(spec.interconnectGBps, 0)) GB/s per direction")
            if run.options.engine.name != ServingEngine.moesim.name {
                notes.append("--engine \(run.options.engine.name) is not applied: the expert-parallel model runs each GPU's experts as one grouped kernel between two all-to-alls, whatever the engine")
            }
            return Result(policyName: spec.name, predictorName: spec.replicate ? "previous-step load" : "none", metrics: metrics,
                          timeline: TimelineRecorder(stepLimit: 0), cacheBytes: 0, eviction: "none", notes: notes, split: split,
                          parallel: parallel)
        }
    }
}
