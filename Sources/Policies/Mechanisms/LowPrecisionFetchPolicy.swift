import OffloadSim

/// HOBBIT (Tang et al., arXiv 2411.01433): a missed expert whose gate weight is small
/// matters little to the output, so it is fetched as a low-precision copy (a share of the
/// bytes, e.g. int4 for bf16: 4.25 / 16) instead of in full; the weight it carries counts
/// against routing fidelity. Traces without gate weights fetch everything in full.
public final class LowPrecisionFetchPolicy: OffloadPolicy {
    public let name: String
    public let missHandling: MissHandling

    /// Low-precision copies for misses with mean gate weight below `belowWeight`, at `byteRatio` of the bytes.
    public init(name: String = "hobbit", belowWeight: Float, byteRatio: Double) {
        self.name = name
        missHandling = .lowPrecision(belowWeight: belowWeight, byteRatio: byteRatio)
    }
}
