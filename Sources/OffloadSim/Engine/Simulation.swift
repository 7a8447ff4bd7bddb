import DequeModule
import TraceStore

/// The discrete-event simulator of one GPU serving an MoE model with experts offloaded
/// to host memory (DESIGN.md §3): one compute stream, a ``PCIeBus``, an ``ExpertCache``
/// and a policy, driven by steps formed from a trace.
///
/// A step walks the layers: attention and router (``GPUCompute``), then the layer's
/// experts in ascending id order, each computed once resident; shared experts run right
/// after the router. Misses are copied on demand as soon as the router has run, into a
/// cache slot, or through one of the staging buffers when the cache has no room (or
/// there is no cache: the double buffer). The policy's hooks may add prefetches. The
/// ``ServingEngine`` in the options says how the layer's experts run (as each lands, after
/// a barrier as one grouped kernel or on concurrent streams, or one by one from a host loop)
/// and what the host's syncs and copy calls cost.
///
/// Simulated time is integer nanoseconds and events are ordered by (time, phase,
/// sequence), so a run is deterministic. The engine is a struct, and policies receive it
/// `inout`, so that its state is checked for exclusive access at compile time rather
/// than at run time on every access (which cost half the run time as a class). Per routed decision the work is O(1) plus
/// O(log n) per event; memory is O(layers × experts + batch × chunk), independent of the
/// trace's length (Belady's next-use table excepted: O(lookups)).
public struct Simulation {
    /// The compute cost model.
    public let compute: GPUCompute
    /// The serving engine simulated (``SimulationOptions/engine``).
    public let engine: ServingEngine
    /// The engine's host costs priced by the hardware profile (``HostCost``), ns, and whether it
    /// has any (``ServingEngine/hasHostCosts``, or kernels dispatched eagerly at a cost:
    /// ``dispatchNs``; copies are then issued on the host's clock).
    let paysHostCosts: Bool
    let routerSyncNs: Nanoseconds
    let expertSyncNs: Nanoseconds
    let splitSyncNs: Nanoseconds
    let copyIssueNs: Nanoseconds
    /// Copy calls per expert under the engine.
    let copyPieces: Int
    /// The engine's host cost per layer run on the CPU, ns (nil: per-expert overhead instead),
    /// and whether the current layer has paid it.
    let cpuLayerNs: Nanoseconds?
    var cpuLayerPaid = false
    /// The host's time to issue one kernel launch under the engine (its framework's eager op
    /// where the profile prices one), ns: bounds a concurrent-streams layer's issue.
    let hostLaunchNs: Nanoseconds
    /// Under an engine that copies runs of expert ids: per planned position, the next position
    /// of its run (-1: the last), for the run copy that makes them all ready.
    var runNext: [Int32] = []
    /// The policy.
    public let policy: any OffloadPolicy
    /// Run options.
    public let options: SimulationOptions
    /// The bus.
    public internal(set) var bus: PCIeBus
    /// The expert cache.
    public internal(set) var cache: ExpertCache
    /// Current simulated time, ns.
    public internal(set) var now: Nanoseconds = 0
    /// The step being simulated.
    public internal(set) var step = Step()
    /// The layer being computed.
    public internal(set) var layer = 0
    /// Figures so far.
    public internal(set) var metrics: SimulationMetrics
    /// Operations recorded for the timeline (first `timelineSteps` steps).
    public internal(set) var timeline: TimelineRecorder
    var replay: ReplayRecorder
    /// The GPU operations of the first `replaySteps` steps, for `moesim gpu validate`.
    public var replaySchedule: ReplaySchedule { replay.finished() }

    var queue = EventQueue()
    var stepStart: Nanoseconds = 0
    var stepDone = false
    // The current layer's experts: positions into step's per-layer range.
    /// The experts the current layer runs (the router's choice unless the policy substituted).
    public internal(set) var layerExperts: [UInt16] = []
    /// Tokens routed to each of ``layerExperts``.
    public internal(set) var layerTokens: [Int32] = []
    var substituted = false
    /// Per planned expert of the current layer: how it is served (one array, not five: each
    /// array written per expert costs a uniqueness check in the hot loop).
    var planned: [PlannedExpert] = []
    var cpuFree: Nanoseconds = 0
    var executionOrder: [Int] = []
    var cursor = 0
    var stagingQueue = Deque<Int>()
    var stagingFree: Int
    var waitingOn = -1
    var stallStart: Nanoseconds = 0
    var computeOp = ComputeOp.idle
    var computeStart: Nanoseconds = 0
    /// When the compute stream's running operation ends, or -1. The stream runs one
    /// operation at a time, so its completion is kept here rather than in the event heap
    /// (half of all events otherwise), and handled where a `.compute` event would sort.
    var computeDue: Nanoseconds = -1
    // Per cache key: its position in the current layer (-1 if not), its copy in flight, and
    // whether it was prefetched and not used yet.
    var positionOfKey: [Int32]
    var copyOfKey: [Int32]
    var unusedPrefetch: [Bool]
    var evicted: [Int] = []
    var nextUse: [UInt32]
    var lookupIndex = 0
    var expertTimes: [Nanoseconds]
    /// ``GPUCompute/copyContention``, held apart so that the hot path does not read `compute`.
    let copyContention: Double
    static var tabulatedTokens: Int { 16 }
    // Engines with host costs: when the host can next launch a kernel or issue a copy.
    var hostFree: Nanoseconds = 0
    /// Host time to dispatch one kernel under an engine that issues each as a framework
    /// operation (``ServingEngine/dispatchesEagerly``) on a profile with that framework's costs,
    /// ns; 0: kernels are queued ahead of the GPU and only the profile's launch gap applies.
    let dispatchNs: Nanoseconds
    // Per-expert-sync engines: the cursor position whose sync has been paid (the copies
    // waiting for the host loop are marked `deferred` in `planned`).
    var syncedCursor = -1
    var latencies = StepLatencyTracker()
    /// Whether steps are timed in closed form rather than event by event: on-demand loading
    /// on an exclusive bus under moesim's streaming engine, where every event's time follows
    /// from the layer's lookups (``closedFormApplies(policy:options:bus:copyNanoseconds:)``).
    /// The results are the same either way (tests hold them equal); only the speed differs.
    public let usesClosedForm: Bool
    /// One demand copy's time per layer on the idle bus, ns; empty unless the bus is exclusive.
    let copyNanoseconds: [Nanoseconds]
    /// Under ``usesClosedForm``: bus busy time so far, ns (the ``bus`` itself is not used).
    var closedFormBusyNs: Nanoseconds = 0

    enum ComputeOp: Equatable { case idle, draft, attention, shared, expert(Int), grouped }

    /// A simulator for `model` on `profile` under `policy`.
    ///
    /// - Parameters:
    ///   - nextUse: for Belady, the logical time of each lookup's next use, in lookup order
    ///     (from ``TracePrepass``); empty otherwise.
    ///   - lookupKeys: for Belady, the cache key of each lookup, in the same order (from
    ///     ``TracePrepass``), or empty: the same results, sooner (see ``ExpertCache``).
    ///   - hotSet: for the pinned rule, the cache keys to keep.
    public init(model: ModelCost, profile: HardwareProfile, policy: any OffloadPolicy, options: SimulationOptions,
                nextUse: [UInt32] = [], lookupKeys: [UInt32] = [], hotSet: [Int] = []) {
        compute = GPUCompute(model: model, profile: profile)
        copyContention = compute.copyContention
        engine = options.engine
        routerSyncNs = engine.routerSync.nanoseconds(on: profile, framework: engine.framework)
        expertSyncNs = engine.expertSync.nanoseconds(on: profile, framework: engine.framework)
        splitSyncNs = engine.splitSync.nanoseconds(on: profile, framework: engine.framework)
        copyIssueNs = engine.copyIssue.nanoseconds(on: profile, framework: engine.framework)
        copyPieces = options.engine.copiesPerExpert ?? model.matricesPerExpert
        cpuLayerNs = engine.cpuLayer?.nanoseconds(on: profile, framework: engine.framework)
        hostLaunchNs = HostCost(launches: 1).nanoseconds(on: profile, framework: engine.framework)
        dispatchNs = engine.dispatchesEagerly ? engine.framework.flatMap { profile.frameworkCosts[$0]?.launchNs } ?? 0 : 0
        paysHostCosts = engine.hasHostCosts || dispatchNs > 0
        self.policy = policy
        self.options = options
        bus = PCIeBus(links: [profile.copyLink(pageable: engine.copiesFromPageableMemory)], prioritisesDemand: options.engine.prioritisesDemand)
        cache = ExpertCache(capacityBytes: options.cacheBytes, expertBytes: model.expertBytes, experts: model.experts,
                            eviction: options.eviction, partitioned: options.partitioned, hotSet: hotSet, lookupKeys: lookupKeys)
        metrics = SimulationMetrics(layers: model.layers)
        timeline = TimelineRecorder(stepLimit: options.timelineSteps)
        replay = ReplayRecorder(stepLimit: options.replaySteps)
        bus.recordsPieces = options.replaySteps > 0
        // A layer-barrier engine's buffer set holds a whole layer: every miss of the layer copies at once.
        stagingFree = options.engine.waitsForWholeLayer ? Int(Int32.max) : options.stagingBuffers
        let keys = model.layers * model.experts
        positionOfKey = Array(repeating: -1, count: keys)
        copyOfKey = Array(repeating: -1, count: keys)
        unusedPrefetch = Array(repeating: false, count: keys)
        self.nextUse = nextUse
        if policy.preloadsAllExperts {
            cache = ExpertCache(capacityBytes: model.expertBytes.reduce(0, +) * model.experts, expertBytes: model.expertBytes,
                                experts: model.experts, eviction: .pinned, hotSet: Array(0..<keys))
            var none: [Int] = []
            for key in 0..<keys {
                _ = cache.reserve(key, evicted: &none)
                cache.fill(key)
            }
        }
        if options.cacheBytes > 0 && options.eviction == .pinned {
            // A static placement is loaded before serving starts: the hot set is resident at time 0.
            var none: [Int] = []
            for key in hotSet where cache.reserve(key, evicted: &none) { cache.fill(key) }
        }
        var residentExperts = (0..<model.layers).map { options.engine.keepsExpertsOnGPU(layer: $0) ? model.experts : 0 }
        if cache.bytesInUse > 0 {
            for key in 0..<keys where cache.residency(of: key) == .resident && !options.engine.keepsExpertsOnGPU(layer: key / model.experts) {
                residentExperts[key / model.experts] += 1
            }
        }
        let load = ModelLoad(model: model, profile: profile, residentExperts: residentExperts)
        (metrics.modelLoadNs, metrics.modelLoadAtPageableRate) = (load.nanoseconds, load.pageable)
        let compute = self.compute
        expertTimes = (0..<model.layers).flatMap { layer in
            (1...Self.tabulatedTokens).map { compute.expertNanoseconds(layer: layer, tokens: $0) }
        }
        let (bus, pieces) = (bus, copyPieces)
        copyNanoseconds = model.expertBytes.compactMap { bus.exclusiveCopyNanoseconds(bytes: $0, pieces: pieces) }
        usesClosedForm = Self.closedFormApplies(policy: policy, options: options, bus: bus, copyNanoseconds: copyNanoseconds)
    }

    /// Runs every step `steps` gives and returns the metrics.
    // Specialised for trace files: callers in other modules reach the generic entry point,
    // where the step former ran unspecialised (its type metadata looked up at every step).
    @_specialize(exported: false, where Steps == BatchFormer<TraceReader>)
    @_specialize(exported: false, where Steps == StepPipeline<BatchFormer<TraceReader>>)
    public mutating func run<Steps: StepSource>(_ steps: inout Steps) throws -> SimulationMetrics {
        while try steps.next(into: &step) {
            if usesClosedForm { simulateStepInClosedForm() } else { simulateStep() }
            guard now <= Units.latestTime, metrics.bytesMoved <= Units.largestByteCount else { throw overflow() }
        }
        metrics.busBusyNs = usesClosedForm ? closedFormBusyNs : bus.busyNanoseconds(now: now)
        return metrics
    }

    /// Simulates the step held in ``step``, from ``now`` until its last layer finishes.
    mutating func simulateStep() {
        stepStart = now
        stepDone = false
        // An engine dispatching from the host learns the step's tokens at its end: it issues
        // nothing of the next step before then.
        if dispatchNs > 0 { hostFree = max(hostFree, now) }
        latencies.begin(step, at: now)
        replay.stepStarted(index: step.index, decode: step.phase == .decode, tokens: step.tokens, at: now)
        let policy = self.policy
        policy.stepStarted(in: &self)
        let draft = policy.draftNanoseconds(in: &self)
        // A draft model's time is per token, without kernels of its own in the cost model: no gaps.
        if draft > 0 { startCompute(.draft, draft, launchGaps: 0) } else { beginLayer(0) }
        while !stepDone {
            if computeDue >= 0, queue.peek.map({ computeDue < $0.time || (computeDue == $0.time && $0.phase > .compute) }) ?? true {
                now = computeDue
                computeDue = -1
                if now > Units.latestTime { return }
                computeFinished()
                continue
            }
            guard let event = queue.popNext() else { break }
            now = event.time
            // Past the latest time the step is abandoned and run() reports it.
            if now > Units.latestTime { return }
            switch event.phase {
            case .copy:
                let done = bus.handle(event, now: now, queue: &queue)
                if !bus.pieces.isEmpty {
                    // Before the copy's end, so that the replay's waits find its last piece.
                    for piece in bus.pieces { replay.pieceLanded(piece, stagingSlot: replayStagingSlot(ofTag: piece.tag)) }
                    bus.pieces.removeAll(keepingCapacity: true)
                }
                if let done { copyFinished(done) }
            case .cpu:
                cpuFinished(Int(event.payload))
            case .compute:
                preconditionFailure("compute completions are kept in computeDue, not the event queue")
            case .step:
                break
            }
        }
        precondition(stepDone, "the event queue ran dry before step \(step.index) finished")
        policy.stepFinished(in: &self)
    }

    /// The error a run past ``Units/latestTime`` or ``Units/largestByteCount`` stops with.
    private func overflow() -> TraceStoreError {
        TraceStoreError(
            file: "simulation", place: "step \(step.index)",
            problem: now > Units.latestTime
                ? "simulated time passed 2^62 ns (146 years): the bus or compute figures, or the expert sizes, are far outside any real system"
                : "moved more than 2^62 bytes, beyond 64-bit counters",
            fix: "Check the hardware profile's bus and GPU figures and the trace's expert sizes (`moesim trace info`).")
    }

    /// The random stream of the component called `component`: each component (a
    /// predictor, an arrival process) draws from its own stream, derived from the run's
    /// seed and the name, so that adding draws to one never shifts another's.
    public func randomStream(_ component: String) -> SplitMix64 {
        SplitMix64(seed: options.seed, stream: component)
    }

    /// Prefetches expert `expert` of `layer` into the cache at prefetch priority. Returns
    /// false when it is already resident or on its way (or its layer's experts stay on the
    /// GPU under the engine), or no slot can be made.
    @discardableResult
    public mutating func prefetch(layer: Int, expert: Int) -> Bool {
        let key = layer * cache.expertsPerLayer + expert
        guard !engine.keepsExpertsOnGPU(layer: layer), cache.residency(of: key) == .absent, reserveSlot(key, nextUse: UInt64.max - 1) else { return false }
        let bytes = cache.bytes(ofKey: key)
        unusedPrefetch[key] = true
        metrics.prefetchBytes += bytes
        metrics.layers[layer].prefetchBytes += bytes
        copyOfKey[key] = submitCopy(bytes: bytes, priority: .prefetch, tag: Int32(key))
        return true
    }

    /// Copies one more replica of expert `key` (layer × experts per layer + expert) to the
    /// GPU at prefetch priority, outside the cache (the policy keeps it and its memory);
    /// ``OffloadPolicy/copyFinished(_:key:in:)`` hears of it with `key` nil and the tag
    /// ``replicaTag(ofKey:)``. Counted in the prefetched bytes.
    public mutating func copyReplica(key: Int) {
        let bytes = cache.bytes(ofKey: key)
        metrics.prefetchBytes += bytes
        metrics.layers[key / cache.expertsPerLayer].prefetchBytes += bytes
        _ = submitCopy(bytes: bytes, priority: .prefetch, tag: Self.replicaTag(ofKey: key))
    }

    /// Copy tags at or below this mark are replica copies (``copyReplica(key:)``); cache
    /// fills use the key (≥ 0) and staging copies -(position + 1).
    static let replicaTagMark: Int32 = -1_000_000_000

    /// The bus tag of a replica copy of `key`.
    public static func replicaTag(ofKey key: Int) -> Int32 { replicaTagMark - Int32(key) }

    /// The expert key a replica copy's tag stands for, or nil for any other copy.
    public static func replicaKey(ofTag tag: Int32) -> Int? { tag <= replicaTagMark ? Int(replicaTagMark - tag) : nil }

    /// Submits a copy to the bus (and to the replay schedule); returns the bus's id for it.
    /// Under an engine that pays for copy calls the host issues it after its earlier work,
    /// one call per weight tensor, and the bus cannot start it before the first call.
    mutating func submitCopy(bytes: Int, priority: CopyPriority, tag: Int32) -> Int32 {
        var issued: Nanoseconds = 0
        if paysHostCosts {
            issued = max(hostFree, now) + copyIssueNs
            hostFree = issued + Nanoseconds(copyPieces - 1) * copyIssueNs
        }
        let id = bus.submit(bytes: bytes, priority: priority, tag: tag, now: now, queue: &queue, notBefore: issued, pieces: copyPieces)
        replay.copySubmitted(id: id, prefetch: priority == .prefetch)
        return id
    }

    /// Cancels a queued prefetch of `key`, freeing its slot; false when it already started.
    @discardableResult
    public mutating func cancelPrefetch(key: Int) -> Bool {
        let copy = copyOfKey[key]
        guard copy >= 0, positionOfKey[key] < 0, let moved = bus.cancel(copy) else { return false }
        copyOfKey[key] = -1
        metrics.wastedBytes += cache.bytes(ofKey: key)
        metrics.prefetchBytes -= cache.bytes(ofKey: key) - moved
        unusedPrefetch[key] = false
        cache.remove(key)
        return true
    }

    mutating func reserveSlot(_ key: Int, nextUse: UInt64) -> Bool {
        evicted.removeAll(keepingCapacity: true)
        let policy = self.policy
        let granted = cache.reserve(key, nextUse: nextUse, evicted: &evicted) { policy.mayEvict($0) }
        countEvictions()
        return granted
    }

    /// After-batch admission: once the layer batch's misses are admitted (its experts locked),
    /// the rule evicts until the cache is back within its budget.
    mutating func trimCacheAfterBatch() {
        evicted.removeAll(keepingCapacity: true)
        let policy = self.policy
        cache.trimToBudget(evicted: &evicted) { policy.mayEvict($0) }
        countEvictions()
    }

    /// Counts the keys in `evicted`, and the prefetched bytes among them that were never used.
    mutating func countEvictions() {
        for victim in evicted {
            metrics.evictions += 1
            if unusedPrefetch[victim] {
                unusedPrefetch[victim] = false
                metrics.wastedBytes += cache.bytes(ofKey: victim)
            }
        }
    }
}
