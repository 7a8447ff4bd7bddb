import OffloadSim

/// Where a replay keeps things in GPU memory: one slot per cache key the schedule uses and
/// one per replica of a key (reused round-robin when they do not all fit), the staging
/// buffers, and per layer the attention and shared-expert weights. Computed before anything
/// is allocated, so that a run that cannot fit says so up front.
public struct ReplayLayout: Sendable, Equatable {
    /// Whose weights a slot holds: cache key `key`'s own (`replica` 0) or its `replica`-th replica.
    struct Weights: Hashable, Sendable {
        var key: Int
        var replica: Int
    }

    /// Bytes of one expert slot (the largest expert).
    public let slotBytes: Int
    /// Expert slots allocated.
    public let slots: Int
    private let slotOfWeights: [Weights: Int]
    /// Whether keys share slots (more keys than fit): kernels then read another expert's
    /// weights of the same size, which changes no time.
    public let sharesSlots: Bool
    /// Staging buffers.
    public let stagingBuffers: Int
    /// Per layer, the largest attention read and the shared experts' bytes.
    public let attentionBytes: [Int]
    public let sharedBytes: [Int]
    /// The most tokens any operation on the compute stream processes; for a grouped kernel, its
    /// experts times the group's largest token count (every expert of a grouped launch takes
    /// that many).
    public let maxTokens: Int
    /// Per layer, the intermediate width of the SwiGLU FFN that reads a routed expert's bytes:
    /// 3 × hidden × width bf16 weights, the width a multiple of 8.
    public let expertIntermediate: [Int]
    /// The widest FFN and the most output rows (attention's weight rows) the main activation
    /// buffers hold.
    public let activationWidth: Int
    public let activationRows: Int
    /// The most tokens one routed expert processes: what each concurrent-streams lane's own
    /// activation buffers hold.
    public let laneTokens: Int
    /// Device bytes of the activation buffers: the main ones and every lane's.
    public let activationBytes: Int

    /// Plans `schedule` for `model` within `memoryBytes` of free GPU memory, with
    /// `expertLanes` concurrent-streams lanes (0 for a single-stream engine) whose activation
    /// buffers count against it too.
    public init(schedule: ReplaySchedule, model: ModelCost, memoryBytes: Int, expertLanes: Int = 0) throws {
        slotBytes = model.expertBytes.max() ?? 0
        var keys: [Weights] = []
        var seen = Set<Weights>()
        var staging = 0
        var attention = [Int](repeating: 0, count: model.layers)
        var shared = [Int](repeating: 0, count: model.layers)
        for op in schedule.ops {
            switch op.kernel {
            case .expert(_, _, let key, let slot, _):
                // A replica lives in a slot of its own, whether or not its expert was staged.
                if slot >= 0 && op.replica == 0 {
                    staging = max(staging, slot + 1)
                } else if seen.insert(Weights(key: key, replica: op.replica)).inserted {
                    keys.append(Weights(key: key, replica: op.replica))
                }
            case .attention(let layer, let bytes): attention[layer] = max(attention[layer], bytes)
            case .shared(let layer, let bytes): shared[layer] = max(shared[layer], bytes)
            case .draft: break
            }
        }
        for copy in schedule.copies {
            if copy.key >= 0 {
                if seen.insert(Weights(key: copy.key, replica: copy.replica)).inserted { keys.append(Weights(key: copy.key, replica: copy.replica)) }
            } else {
                staging = max(staging, copy.staging + 1)
            }
        }
        var most = schedule.ops.map(\.tokens).max() ?? 1
        // A concurrent-streams engine's groups run in its lanes, not as one grouped launch.
        for (index, op) in schedule.ops.enumerated() where op.groupSize > 0 && expertLanes == 0 {
            most = max(most, op.groupSize * schedule.ops[index..<index + op.groupSize].map(\.tokens).max()!)
        }
        maxTokens = max(1, most)
        let hidden = model.hiddenSize
        expertIntermediate = model.expertBytes.map { max(8, $0 / (6 * hidden) / 8 * 8) }
        let widestExpert = expertIntermediate.max() ?? 8
        activationWidth = max(widestExpert, (shared.max() ?? 0) / max(1, model.sharedExperts) / (6 * hidden))
        activationRows = (attention.max() ?? 0) / (2 * hidden) + 1
        laneTokens = schedule.ops.lazy.filter { if case .expert = $0.kernel { true } else { false } }.map(\.tokens).max() ?? 1
        activationBytes = ExpertActivations.bytes(maxTokens: maxTokens, width: hidden, intermediate: activationWidth, rows: activationRows)
            + expertLanes * ExpertActivations.bytes(maxTokens: laneTokens, width: hidden, intermediate: widestExpert, rows: hidden)
        let fixed = attention.reduce(0, +) + shared.reduce(0, +) + staging * slotBytes + activationBytes
        let room = (memoryBytes - fixed) / max(1, slotBytes)
        guard room >= 1 || keys.isEmpty else { throw CUDAError.outOfMemory(needed: fixed + slotBytes, available: memoryBytes) }
        slots = min(keys.count, max(room, 0))
        var map: [Weights: Int] = [:]
        for (index, key) in keys.enumerated() { map[key] = slots > 0 ? index % slots : 0 }
        slotOfWeights = map
        sharesSlots = keys.count > slots
        stagingBuffers = staging
        attentionBytes = attention
        sharedBytes = shared
    }

    /// The slot holding cache key `key`'s weights (`replica` 0) or its `replica`-th replica.
    public func slot(ofKey key: Int, replica: Int = 0) -> Int {
        slotOfWeights[Weights(key: key, replica: replica)]!
    }
}
