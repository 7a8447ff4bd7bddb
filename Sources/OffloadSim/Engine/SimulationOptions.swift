/// How the engine is set up for a run, apart from the model, hardware and policy.
public struct SimulationOptions: Sendable, Equatable {
    /// Expert cache budget in bytes; 0 runs without a cache, double-buffered (every expert
    /// streams through the staging buffers, as the seed paper's engine does).
    public var cacheBytes: Int
    /// Eviction rule of the cache.
    public var eviction: EvictionPolicy
    /// Whether each layer gets `cacheBytes / layers` of its own.
    public var partitioned: Bool
    /// Staging buffers (each one expert) for experts that get no cache slot; outside the budget.
    public var stagingBuffers: Int
    /// Steps whose operations the timeline records (0: none).
    public var timelineSteps: Int
    /// Seed of every random stream in the run (see ``Simulation/randomStream(_:)``).
    public var seed: UInt64
    /// Steps whose GPU operations are recorded for a replay on a real GPU (0: none).
    public var replaySteps: Int
    /// The serving engine whose execution is simulated (``ServingEngine/moesim`` by default).
    public var engine: ServingEngine
    /// When a miss takes its place in the cache (hard cap by default).
    public var admission: CacheAdmission
    /// The order a layer's experts are looked up, fetched and run in (ascending id by default).
    public var lookupOrder: LookupOrder
    /// Simulate every event even where a run has a closed form (``Simulation/usesClosedForm``):
    /// slower, with the same results; for checking the one against the other.
    public var eventDriven: Bool

    /// Creates options.
    public init(cacheBytes: Int = 0, eviction: EvictionPolicy = .lru, partitioned: Bool = false,
                stagingBuffers: Int = 2, timelineSteps: Int = 0, seed: UInt64 = 1, replaySteps: Int = 0,
                engine: ServingEngine = .moesim, admission: CacheAdmission = .hardCap, lookupOrder: LookupOrder = .id,
                eventDriven: Bool = false) {
        self.cacheBytes = cacheBytes
        self.eviction = eviction
        self.partitioned = partitioned
        self.stagingBuffers = stagingBuffers
        self.timelineSteps = timelineSteps
        self.seed = seed
        self.replaySteps = replaySteps
        self.engine = engine
        self.admission = admission
        self.lookupOrder = lookupOrder
        self.eventDriven = eventDriven
    }
}
