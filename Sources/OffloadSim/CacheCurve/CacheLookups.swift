import TraceStore

/// What one request to the expert cache is, for replays without timing (`moesim cache-curve`).
public enum CacheRequestUnit: String, Sendable, CaseIterable {
    /// Every routed (token, layer, expert) in trace order — token by token, layer by layer, a
    /// token's experts in the lookup order — with no protection of a batch's experts: the
    /// convention of general cache simulators such as libCacheSim.
    case lookup
    /// One request per distinct expert per layer batch, the batch's experts protected from
    /// each other's evictions, steps formed as `simulate` forms them: what `simulate` counts.
    case layerBatch = "layer-batch"
}

/// Receives the requests a trace makes of the expert cache (keys `layer × experts + expert`).
public protocol CacheRequestVisitor {
    /// One request (unit `lookup`); `decode` says whether its token was generated.
    mutating func request(_ key: Int, decode: Bool)
    /// One layer batch's distinct experts (unit `layer-batch`), in lookup order.
    mutating func batch(_ keys: ArraySlice<Int>, decode: Bool)
}

/// The requests a routing source makes of the expert cache, streamed chunk by chunk (memory
/// bounded by the chunk, or by the batch former's steps).
public struct CacheLookups<Source: RoutingSource> {
    /// Where the routing comes from.
    public let source: Source
    /// What a request is.
    public let unit: CacheRequestUnit
    /// The order of a token's (or a layer batch's) experts.
    public let order: LookupOrder
    /// Sequences per batch (unit `layer-batch`).
    public let batchSize: Int
    /// Replay prompt tokens one per step and count them as decode.
    public let prefillAsDecode: Bool

    /// The requests of `source`.
    public init(source: Source, unit: CacheRequestUnit, order: LookupOrder = .rank, batchSize: Int = 1, prefillAsDecode: Bool = false) {
        self.source = source
        self.unit = unit
        self.order = order
        self.batchSize = batchSize
        self.prefillAsDecode = prefillAsDecode
    }

    /// Feeds every request to `visitor`, in order. O(decisions).
    public func forEach<Visitor: CacheRequestVisitor>(_ visitor: inout Visitor) throws {
        switch unit {
        case .lookup: try forEachLookup(&visitor)
        case .layerBatch: try forEachBatch(&visitor)
        }
    }

    private func forEachLookup<Visitor: CacheRequestVisitor>(_ visitor: inout Visitor) throws {
        let shape = source.shape
        let (layers, experts, topK) = (shape.layers, shape.experts, shape.topK)
        guard !source.sequences.isEmpty else { return }
        var cursor = try source.cursor(fromChunk: 0, predictions: [], weights: true)
        var chunk = cursor.makeChunk()
        var slots = Array(0..<topK)
        let ranked = order == .rank && source.hasWeights
        while try cursor.next(into: &chunk) {
            let count = chunk.tokenCount
            for token in 0..<count {
                let decode = prefillAsDecode || chunk.phases[token] == Phase.decode.rawValue
                for layer in 0..<layers where !chunk.isAbsent(token: token, layer: layer) {
                    let start = (layer * count + token) * topK
                    if ranked { Self.rank(&slots, start: start, chunk: chunk) }
                    for index in 0..<topK {
                        let slot = ranked ? slots[index] : (order == .id ? Self.ascendingSlot(index, start: start, chunk: chunk) : index)
                        visitor.request(layer * experts + Int(chunk.ids[start + slot]), decode: decode)
                    }
                }
            }
        }
    }

    private func forEachBatch<Visitor: CacheRequestVisitor>(_ visitor: inout Visitor) throws {
        var former = BatchFormer(source: source, batchSize: batchSize, prefillAsDecode: prefillAsDecode, lookupOrder: order)
        var step = Step()
        var keys: [Int] = []
        let experts = source.shape.experts
        while try former.next(into: &step) {
            let decode = step.phase == .decode
            for layer in 0..<(step.layerStart.count - 1) {
                keys.removeAll(keepingCapacity: true)
                for index in step.range(layer: layer) { keys.append(layer * experts + Int(step.experts[index])) }
                visitor.batch(keys[...], decode: decode)
            }
        }
    }

    /// Sorts the k slots at `start` by descending weight, ties by ascending id (rank order).
    /// Weights compare as their fp16 bit patterns mapped to an order-preserving integer.
    @inline(__always)
    private static func rank(_ slots: inout [Int], start: Int, chunk: RoutingChunk) {
        let topK = slots.count
        chunk.weightBits.withUnsafeBufferPointer { weights in
            chunk.ids.withUnsafeBufferPointer { ids in
                slots.withUnsafeMutableBufferPointer { slots in
                    // Each slot's sort value: weight order, then ascending id, then the slot; larger first.
                    var values = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
                    withUnsafeMutableBytes(of: &values) { raw in
                        let small = topK <= 8
                        let sorted = small ? raw.bindMemory(to: UInt64.self).baseAddress! : .allocate(capacity: topK)
                        defer { if !small { sorted.deallocate() } }
                        for slot in 0..<topK {
                            let bits = weights[start + slot]
                            let ordered = bits & 0x8000 != 0 ? ~bits : bits | 0x8000
                            let value = UInt64(ordered) << 32 | UInt64(0xFFFF - ids[start + slot]) << 16 | UInt64(slot)
                            var position = slot
                            while position > 0 && sorted[position - 1] < value {
                                sorted[position] = sorted[position - 1]
                                position -= 1
                            }
                            sorted[position] = value
                        }
                        for index in 0..<topK { slots[index] = Int(sorted[index] & 0xFFFF) }
                    }
                }
            }
        }
    }

    /// The slot holding the `index`-th smallest id at `start`: stored ids are ascending where
    /// the trace has weights; otherwise found by counting (k is small).
    private static func ascendingSlot(_ index: Int, start: Int, chunk: RoutingChunk) -> Int {
        if chunk.idsAscending { return index }
        let topK = chunk.topK
        for slot in 0..<topK {
            let id = chunk.ids[start + slot]
            var smaller = 0
            for other in 0..<topK where chunk.ids[start + other] < id { smaller += 1 }
            if smaller == index { return slot }
        }
        return index
    }
}
