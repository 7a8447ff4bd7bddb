import OffloadSim

/// The compute floor: every expert resident on the GPU from the start, nothing copied.
/// No real deployment of an offloaded model reaches it; it bounds what any policy can do.
public final class AllResidentPolicy: OffloadPolicy {
    /// "all-resident".
    public let name = "all-resident"
    public var preloadsAllExperts: Bool { true }

    /// The bound.
    public init() {}
}
