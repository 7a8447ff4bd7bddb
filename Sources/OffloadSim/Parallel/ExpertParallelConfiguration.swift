/// Several GPUs serving one model with expert parallelism (DESIGN.md §3): every expert
/// lives on one home GPU (expert e on GPU e mod G), each GPU runs attention for its share
/// of the batch, and token activations travel all-to-all over the interconnect to the
/// GPUs holding their experts and back. Experts are all GPU-resident (no offloading).
public struct ExpertParallelConfiguration: Sendable, Equatable {
    /// GPUs.
    public var gpus: Int
    /// Per-direction interconnect bandwidth of each GPU, GB/s (NVLink 4: 450; PCIe 5.0 x16: ~50).
    public var interconnectGBps: Double
    /// Fixed cost of each all-to-all and of each replica copy, ns.
    public var interconnectLatencyNs: Nanoseconds
    /// Replicate experts predicted to be overloaded onto less-loaded GPUs (predictive
    /// replication, arXiv 2605.11537); false keeps the static placement.
    public var replicate: Bool
    /// Extra expert copies each GPU may hold per layer.
    public var replicaSlots: Int
    /// Replicate while the busiest GPU's predicted load exceeds the mean by more than this share.
    public var imbalanceThreshold: Double

    /// Creates a configuration.
    public init(gpus: Int, interconnectGBps: Double = 450, interconnectLatencyNs: Nanoseconds = 10_000, replicate: Bool,
                replicaSlots: Int = 2, imbalanceThreshold: Double = 0.1) {
        self.gpus = gpus
        self.interconnectGBps = interconnectGBps
        self.interconnectLatencyNs = interconnectLatencyNs
        self.replicate = replicate
        self.replicaSlots = replicaSlots
        self.imbalanceThreshold = imbalanceThreshold
    }
}

/// What expert parallelism adds to a run's metrics.
public struct ExpertParallelMetrics: Sendable, Encodable {
    /// GPUs.
    public var gpus: Int
    /// Per GPU: time its expert kernels run (launch gaps left out, as in
    /// ``SimulationMetrics/gpuBusyShare``), ns.
    public internal(set) var expertBusyNs: [Nanoseconds]
    /// Replica copies made (an expert copied to a GPU that did not hold it).
    public internal(set) var replicasMade = 0
    /// Bytes copied to make replicas.
    public internal(set) var replicationBytes = 0
    /// Activation bytes sent all-to-all (dispatch and combine).
    public internal(set) var allToAllBytes = 0
    /// Makespan the utilisations refer to, ns.
    public internal(set) var makespanNs: Nanoseconds = 0

    init(gpus: Int) {
        self.gpus = gpus
        expertBusyNs = Array(repeating: 0, count: gpus)
    }

    /// Per GPU: time its expert kernels run over the makespan.
    public var utilisation: [Double] { expertBusyNs.map { makespanNs == 0 ? 0 : Double($0) / Double(makespanNs) } }

    enum CodingKeys: String, CodingKey {
        case gpus, utilisation = "per_gpu_utilisation", minimum = "min_utilisation", replicasMade = "replicas_made"
        case replicationBytes = "replication_bytes", allToAllBytes = "all_to_all_bytes"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(gpus, forKey: .gpus)
        try c.encode(utilisation, forKey: .utilisation)
        try c.encode(utilisation.min() ?? 0, forKey: .minimum)
        try c.encode(replicasMade, forKey: .replicasMade)
        try c.encode(replicationBytes, forKey: .replicationBytes)
        try c.encode(allToAllBytes, forKey: .allToAllBytes)
    }
}
