/// What happened at one MoE layer over a run.
public struct LayerMetrics: Sendable, Equatable, Encodable {
    /// Expert lookups (one per distinct expert per step).
    public var lookups = 0
    /// Lookups that found the expert resident.
    public var hits = 0
    /// Lookups in decode steps.
    public var decodeLookups = 0
    /// Hits in decode steps.
    public var decodeHits = 0
    /// Compute-stream time spent waiting for this layer's copies, ns.
    public var stallNs: Nanoseconds = 0
    /// Compute time of this layer's operations, ns.
    public var computeNs: Nanoseconds = 0
    /// Bytes copied on demand for this layer.
    public var demandBytes = 0
    /// Bytes prefetched for this layer.
    public var prefetchBytes = 0

    /// Adds one step's figures for the layer at once (one write to the layer's entry).
    mutating func record(lookups: Int, hits: Int, decode: Bool, demandBytes: Int, computeNs: Nanoseconds, stallNs: Nanoseconds) {
        self.lookups += lookups
        self.hits += hits
        if decode {
            decodeLookups += lookups
            decodeHits += hits
        }
        self.demandBytes += demandBytes
        self.computeNs += computeNs
        self.stallNs += stallNs
    }

    /// Hits over lookups (0 without lookups).
    public var hitRate: Double { lookups == 0 ? 0 : Double(hits) / Double(lookups) }

    enum CodingKeys: String, CodingKey {
        case lookups, hits, stallNs = "stall_ns", computeNs = "compute_ns", demandBytes = "demand_bytes"
        case prefetchBytes = "prefetch_bytes", hitRate = "hit_rate", decodeHitRate = "decode_hit_rate"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lookups, forKey: .lookups)
        try container.encode(hits, forKey: .hits)
        try container.encode(stallNs, forKey: .stallNs)
        try container.encode(computeNs, forKey: .computeNs)
        try container.encode(demandBytes, forKey: .demandBytes)
        try container.encode(prefetchBytes, forKey: .prefetchBytes)
        try container.encode(hitRate, forKey: .hitRate)
        try container.encode(decodeLookups == 0 ? 0 : Double(decodeHits) / Double(decodeLookups), forKey: .decodeHitRate)
    }
}
