/// One simulation from a routing source to metrics: the pre-passes the eviction rule
/// needs, the engine, and the step former, set up consistently. Sweeps and the CLI both
/// run simulations through it.
public struct SimulationRun<Source: RoutingSource> {
    /// Where the routing comes from.
    public var source: Source
    /// The model's costs.
    public var model: ModelCost
    /// The hardware.
    public var profile: HardwareProfile
    /// Engine options.
    public var options: SimulationOptions
    /// Sequences per batch.
    public var batchSize: Int
    /// Replay prompt tokens one per step.
    public var prefillAsDecode: Bool
    /// Which sequences run (nil: all); a learned predictor's runs use its test split.
    public var sequenceMask: [Bool]?
    /// Generated tokens per sequence per decode step (speculative decoding verifies several).
    public var decodeTokensPerStep = 1
    /// Lookaheads whose recorded predictions the steps carry (for the recorded predictor).
    public var predictionLookaheads: [Int] = []
    /// Tokens in each sequence's KV cache when decoding starts (nil: its prompt; see ``BatchFormer/contextTokens``).
    public var contextTokens: Int?
    /// Whether steps are formed on a second thread while the simulation runs (``StepPipeline``):
    /// the same results, sooner where a core is free.
    public var formsStepsAhead = true

    /// Describes a run.
    public init(source: Source, model: ModelCost, profile: HardwareProfile, options: SimulationOptions,
                batchSize: Int = 1, prefillAsDecode: Bool = false, sequenceMask: [Bool]? = nil) {
        self.source = source
        self.model = model
        self.profile = profile
        self.options = options
        self.batchSize = batchSize
        self.prefillAsDecode = prefillAsDecode
        self.sequenceMask = sequenceMask
    }

    /// Runs it under `policy`; returns the metrics, the recorded timeline and the replay
    /// schedule of the first `options.replaySteps` steps.
    public func run<Policy: OffloadPolicy>(policy: Policy) throws -> (metrics: SimulationMetrics, timeline: TimelineRecorder, replay: ReplaySchedule) {
        var (lookupKeys, nextUse): ([UInt32], [UInt32]) = ([], [])
        var hotSet: [Int] = []
        if options.cacheBytes > 0 && options.eviction == .belady {
            var former = makeFormer(content: .lookups)
            if formsStepsAhead {
                var steps = StepPipeline(former)
                (lookupKeys, nextUse) = try TracePrepass.nextUses(&steps, experts: model.experts)
            } else {
                (lookupKeys, nextUse) = try TracePrepass.nextUses(&former, experts: model.experts)
            }
        }
        if options.cacheBytes > 0 && options.eviction == .pinned {
            var former = makeFormer(content: .lookups)
            hotSet = try TracePrepass.hotSet(&former, model: model, capacityBytes: options.cacheBytes, partitioned: options.partitioned)
        }
        var simulation = Simulation(model: model, profile: profile, policy: policy, options: options, nextUse: nextUse, lookupKeys: lookupKeys,
                                    hotSet: hotSet)
        // The closed form reads no per-token routing: its steps leave it out.
        let former = makeFormer(content: simulation.usesClosedForm ? .gateMass : .tokens)
        let metrics: SimulationMetrics
        if formsStepsAhead {
            var steps = StepPipeline(former)
            metrics = try simulation.run(&steps)
        } else {
            var steps = former
            metrics = try simulation.run(&steps)
        }
        return (metrics, simulation.timeline, simulation.replaySchedule)
    }

    /// A step former over this run's sequences whose steps carry `content` (``StepContent/lookups``
    /// for a pre-pass that reads only each step's lookups; the recorded predictions only with
    /// ``StepContent/tokens``), prompts in the engine's prefill chunks unless `engineChunks` is
    /// false (a model that does not apply the engine, as expert parallelism does not).
    public func makeFormer(content: StepContent = .tokens, engineChunks: Bool = true) -> BatchFormer<Source> {
        BatchFormer(source: source, batchSize: batchSize, prefillAsDecode: prefillAsDecode, sequenceMask: sequenceMask,
                    decodeTokensPerStep: decodeTokensPerStep, predictionLookaheads: content == .tokens ? predictionLookaheads : [],
                    contextTokens: contextTokens, prefillChunkTokens: engineChunks ? options.engine.prefillChunkTokens : nil,
                    lookupOrder: options.lookupOrder, content: content)
    }
}
