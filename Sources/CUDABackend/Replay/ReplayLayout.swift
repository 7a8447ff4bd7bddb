import OffloadSim

/// Where a replay keeps things in GPU memory: one slot per cache key the schedule uses
/// (reused round-robin when they do not all fit), the staging buffers, and per layer the
/// attention and shared-expert weights. Computed before anything is allocated, so that a
/// run that cannot fit says so up front.
public struct ReplayLayout: Sendable, Equatable {
    /// Bytes of one expert slot (the largest expert).
    public let slotBytes: Int
    /// Expert slots allocated.
    public let slots: Int
    /// Slot of each cache key the schedule touches.
    public let slotOfKey: [Int: Int]
    /// Whether keys share slots (more keys than fit): kernels then read another expert's
    /// weights of the same size, which changes no time.
    public let sharesSlots: Bool
    /// Staging buffers.
    public let stagingBuffers: Int
    /// Per layer, the largest attention read and the shared experts' bytes.
    public let attentionBytes: [Int]
    public let sharedBytes: [Int]
    /// The most tokens any operation processes; for a grouped kernel, its experts times the
    /// group's largest token count (every expert of a grouped launch takes that many).
    public let maxTokens: Int

    /// Plans `schedule` for `model` within `memoryBytes` of free GPU memory.
    public init(schedule: ReplaySchedule, model: ModelCost, memoryBytes: Int) throws {
        slotBytes = model.expertBytes.max() ?? 0
        var keys: [Int] = []
        var seen = Set<Int>()
        var staging = 0
        var attention = [Int](repeating: 0, count: model.layers)
        var shared = [Int](repeating: 0, count: model.layers)
        for op in schedule.ops {
            switch op.kernel {
            case .expert(_, _, let key, let slot, _):
                if slot >= 0 { staging = max(staging, slot + 1) } else if seen.insert(key).inserted { keys.append(key) }
            case .attention(let layer, let bytes): attention[layer] = max(attention[layer], bytes)
            case .shared(let layer, let bytes): shared[layer] = max(shared[layer], bytes)
            case .draft: break
            }
        }
        for copy in schedule.copies {
            if copy.key >= 0 { if seen.insert(copy.key).inserted { keys.append(copy.key) } } else { staging = max(staging, copy.staging + 1) }
        }
        var most = schedule.ops.map(\.tokens).max() ?? 1
        for (index, op) in schedule.ops.enumerated() where op.groupSize > 0 {
            most = max(most, op.groupSize * schedule.ops[index..<index + op.groupSize].map(\.tokens).max()!)
        }
        maxTokens = max(1, most)
        let fixed = attention.reduce(0, +) + shared.reduce(0, +) + staging * slotBytes
            + 16 * maxTokens * max(model.hiddenSize, slotBytes / max(1, 6 * model.hiddenSize), (attention.max() ?? 0) / (2 * model.hiddenSize))
        let room = (memoryBytes - fixed) / max(1, slotBytes)
        guard room >= 1 || keys.isEmpty else { throw CUDAError.outOfMemory(needed: fixed + slotBytes, available: memoryBytes) }
        slots = min(keys.count, max(room, 0))
        var map: [Int: Int] = [:]
        for (index, key) in keys.enumerated() { map[key] = slots > 0 ? index % slots : 0 }
        slotOfKey = map
        sharesSlots = keys.count > slots
        stagingBuffers = staging
        attentionBytes = attention
        sharedBytes = shared
    }
}
