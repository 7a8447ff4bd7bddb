/// A policy's hook points into the engine (DESIGN.md §3). The engine itself implements
/// on-demand loading: after each router, every routed expert that is not resident is
/// fetched on demand (or streamed through a staging buffer when the cache has no room).
/// A policy adds behaviour at these hooks, e.g. prefetching later layers' experts with
/// ``Simulation/prefetch(layer:expert:)``, or keeping its prefetches from eviction.
///
/// Policies are classes so that they can keep state (a predictor's tables); the engine
/// holds one as `any OffloadPolicy` (a generic engine ran unspecialised across modules,
/// which cost more than the dynamic calls), and hooks get the engine `inout` to issue prefetches.
public protocol OffloadPolicy: AnyObject {
    /// Name as reports print it ("on-demand").
    var name: String { get }
    /// The predictor the policy assumes ("none", "oracle", "parametric r=0.9", …).
    var predictorName: String { get }
    /// What happens to a needed expert that is not resident.
    var missHandling: MissHandling { get }
    /// The order in which a layer's experts run.
    var expertOrder: ExpertOrder { get }
    /// Whether every expert is resident from the start (no offloading: the compute floor).
    var preloadsAllExperts: Bool { get }
    /// Whether the policy is the engine's own on-demand path with every hook left at its
    /// default (nothing prefetched, substituted, replicated, vetoed or drafted): the engine
    /// may then time each layer in closed form rather than event by event
    /// (``Simulation/usesClosedForm``). Only such a policy may say true.
    var isPlainOnDemand: Bool { get }
    /// Compute time before the step's first layer, ns (a draft model's tokens under
    /// speculative decoding); the bus keeps working meanwhile. Asked after ``stepStarted(in:)``.
    func draftNanoseconds(in sim: inout Simulation) -> Nanoseconds
    /// Output tokens each sequence of a decode step produces (accepted drafts + 1 under
    /// speculative decoding). Asked when the step ends.
    func producedTokens(in sim: inout Simulation) -> Int
    /// A step is about to begin; ``Simulation/step`` holds it.
    func stepStarted(in sim: inout Simulation)
    /// The step in ``Simulation/step`` has finished.
    func stepFinished(in sim: inout Simulation)
    /// Layer `layer`'s router has run; ``Simulation/layerExperts`` holds what it chose and
    /// the policy may replace it (``Simulation/substituteLayer(experts:tokens:exactMass:totalMass:)``)
    /// before anything is looked up.
    func planLayer(_ layer: Int, in sim: inout Simulation)
    /// Layer `layer`'s router has run and its demand copies are queued.
    func routed(layer: Int, in sim: inout Simulation)
    /// A copy finished; `key` is the cache key it filled (nil for a staging copy).
    func copyFinished(_ copy: CopyCompletion, key: Int?, in sim: inout Simulation)
    /// Whether the cache may evict `key` now (the rule has chosen it); the policy answers
    /// from its own state, e.g. the experts it prefetched for layers still to come.
    func mayEvict(_ key: Int) -> Bool
    /// Extra copies of expert `key` that are on the GPU now (``Simulation/copyReplica(key:)``
    /// copies that finished and that the policy still holds). Under an engine that runs a
    /// layer's experts on concurrent streams, the expert's tokens are split evenly among its
    /// copies, each a kernel of its own; other engines run each expert once.
    func readyReplicas(ofKey key: Int) -> Int
}

extension OffloadPolicy {
    public var predictorName: String { "none" }
    public var missHandling: MissHandling { .fetch }
    public var expertOrder: ExpertOrder { .ascendingID }
    public var preloadsAllExperts: Bool { false }
    public var isPlainOnDemand: Bool { false }
    public func planLayer(_ layer: Int, in sim: inout Simulation) {}
    public func stepFinished(in sim: inout Simulation) {}
    public func stepStarted(in sim: inout Simulation) {}
    public func draftNanoseconds(in sim: inout Simulation) -> Nanoseconds { 0 }
    public func producedTokens(in sim: inout Simulation) -> Int { 1 }
    public func routed(layer: Int, in sim: inout Simulation) {}
    public func copyFinished(_ copy: CopyCompletion, key: Int?, in sim: inout Simulation) {}
    public func mayEvict(_ key: Int) -> Bool { true }
    public func readyReplicas(ofKey key: Int) -> Int { 0 }
}
