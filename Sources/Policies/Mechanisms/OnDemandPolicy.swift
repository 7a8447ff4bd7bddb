import OffloadSim

/// On-demand loading, the baseline of every offloading paper (DESIGN.md §1): each routed
/// expert is fetched when the router picks it; nothing is prefetched. With a cache,
/// resident experts are reused under the cache's eviction rule; without one, experts
/// stream through a double buffer (two staging slots: one computing while the next
/// loads). All of that is the engine's demand path, so the policy adds no hooks.
public final class OnDemandPolicy: OffloadPolicy {
    /// "on-demand", or the name of a policy file built on it.
    public let name: String

    /// The policy.
    public init(name: String = "on-demand") { self.name = name }

    /// On-demand adds no hook to the engine's demand path.
    public var isPlainOnDemand: Bool { true }
}
