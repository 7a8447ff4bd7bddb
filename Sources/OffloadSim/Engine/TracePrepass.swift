import TraceStore

/// Offline knowledge some runs need before they start, from one pass over the same
/// steps the run will see: Belady's next-use times and the per-expert use counts that
/// choose a pinned hot set.
public enum TracePrepass {
    /// For each expert lookup of the run, in the engine's order (step, layer, ascending
    /// expert), its cache key (`layer × experts + expert`) and the index of the next lookup of
    /// the same key (`UInt32.max` for none). O(lookups) time and 8 bytes per lookup (the latest
    /// use of each key is kept in an array over the keys, which are dense, rather than a
    /// dictionary). `steps` may be a ``StepPipeline``: the keys are gathered while the next steps
    /// are formed.
    @_specialize(exported: false, where Steps == BatchFormer<TraceReader>)
    @_specialize(exported: false, where Steps == StepPipeline<BatchFormer<TraceReader>>)
    public static func nextUses<Steps: StepSource>(_ steps: inout Steps, experts: Int) throws -> (keys: [UInt32], next: [UInt32]) {
        var keys: [UInt32] = []
        var step = Step()
        while try steps.next(into: &step) {
            // The step's keys are written into room made for them at once: appended one by one,
            // each checked the array's uniqueness and capacity.
            let start = keys.count
            keys.append(contentsOf: repeatElement(0, count: step.experts.count))
            keys.withUnsafeMutableBufferPointer { keys in
                step.experts.withUnsafeBufferPointer { ids in
                    for layer in 0..<(step.layerStart.count - 1) {
                        let base = UInt32(layer * experts)
                        for index in step.range(layer: layer) { keys[start &+ index] = base &+ UInt32(ids[index]) }
                    }
                }
            }
        }
        return (keys, nextUses(ofKeys: keys))
    }

    /// For each of `keys` (a stream of cache keys), the index of the next occurrence of the same
    /// key (`UInt32.max` for none), by one pass from the end. O(keys) time; 4 bytes per key, and
    /// as many for the largest key.
    public static func nextUses(ofKeys keys: [UInt32]) -> [UInt32] {
        guard keys.count < Int(UInt32.max) else { preconditionFailure("more than 2^32 lookups for Belady") }
        var next = [UInt32](repeating: .max, count: keys.count)
        var seen = [UInt32](repeating: .max, count: Int(keys.max() ?? 0) + 1)
        for index in stride(from: keys.count - 1, through: 0, by: -1) {
            let key = Int(keys[index])
            next[index] = seen[key]
            seen[key] = UInt32(index)
        }
        return next
    }

    /// The hot set for the pinned rule: experts by descending lookup count (ties by key),
    /// taken while they fit `capacityBytes` (per layer when `partitioned`).
    @_specialize(exported: false, where Source == TraceReader)
    public static func hotSet<Source: RoutingSource>(_ former: inout BatchFormer<Source>, model: ModelCost,
                                                     capacityBytes: Int, partitioned: Bool) throws -> [Int] {
        var counts = [Int](repeating: 0, count: model.layers * model.experts)
        var step = Step()
        while try former.next(into: &step) {
            for layer in 0..<model.layers {
                for index in step.range(layer: layer) { counts[layer * model.experts + Int(step.experts[index])] += 1 }
            }
        }
        let ranked = counts.indices.filter { counts[$0] > 0 }.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
        var used = [Int](repeating: 0, count: partitioned ? model.layers : 1)
        let budget = capacityBytes / used.count
        var chosen: [Int] = []
        for key in ranked {
            let part = partitioned ? key / model.experts : 0
            let bytes = model.expertBytes[key / model.experts]
            if used[part] + bytes <= budget {
                used[part] += bytes
                chosen.append(key)
            }
        }
        return chosen
    }
}
