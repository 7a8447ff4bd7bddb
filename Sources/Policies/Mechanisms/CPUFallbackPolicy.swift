import OffloadSim

/// Fiddler (Kamahori et al., arXiv 2402.07033): experts not on the GPU are computed by
/// the host CPU from host memory instead of being copied; the GPU keeps a static set of
/// popular experts (the cache with the pinned rule) and merges the CPU's results. Uses the
/// hardware profile's host section for the CPU's cost.
public final class CPUFallbackPolicy: OffloadPolicy {
    public let name: String
    public var missHandling: MissHandling { .computeOnCPU }

    /// The policy, called `name`.
    public init(name: String = "fiddler") { self.name = name }
}
