/// What a trace accepts as one token, and the order it stores it in (traces/FORMAT.md,
/// "routing payload"): shared by ``TraceWriter``'s appends and ``PreparedTokens``, so a
/// token is refused, or stored, the same way whichever path it takes.
enum TokenCheck {
    /// Refuses a token whose shape, ids or weights a trace of `shape` cannot hold; returns
    /// the layers it lacks. O(layers × k) for layers of up to ``bitsetExperts`` experts (a
    /// bitset), O(layers × k²) for wider ones and for a token that fails (k is small).
    ///
    /// - Parameters:
    ///   - isValid: whether a weight is a valid gate weight (finite, not below zero).
    ///   - value: the weight's value, for the message.
    @inline(__always)
    static func check<Weight>(ids: [UInt16], weights: [Weight]?, absentLayers: [Int], shape: ModelShape, hasWeights: Bool,
                              isValid: (Weight) -> Bool, value: (Weight) -> Float) throws -> Set<Int> {
        let k = shape.topK
        guard ids.count == shape.layers * k else {
            throw TraceWriter.InvalidToken(problem: "has \(ids.count) expert ids where \(shape.layers) layers × top-\(k) = \(shape.layers * k) were expected")
        }
        guard (weights != nil) == hasWeights else {
            throw TraceWriter.InvalidToken(problem: hasWeights ? "has no gate weights though earlier tokens had" : "has gate weights though earlier tokens had none")
        }
        if let weights, weights.count != ids.count {
            throw TraceWriter.InvalidToken(problem: "has \(weights.count) gate weights for \(ids.count) expert ids")
        }
        guard absentLayers.allSatisfy({ (0..<shape.layers).contains($0) }), Set(absentLayers).count < shape.layers else {
            throw TraceWriter.InvalidToken(problem: "lacks layers \(absentLayers) of 0..<\(shape.layers): a token needs at least one layer")
        }
        let absent = absentLayers.isEmpty ? [] : Set(absentLayers)
        // The common case first: every id in range and distinct (a bitset over the experts,
        // O(k) per layer with branches that hold), every weight valid; only a token that fails
        // it goes through the loop below, which names the first fault in slot order.
        if shape.experts <= bitsetExperts, absent.isEmpty, Self.allValid(ids: ids, weights: weights, topK: k, experts: shape.experts, isValid: isValid) {
            return absent
        }
        for layer in 0..<shape.layers where absent.isEmpty || !absent.contains(layer) {
            for r in 0..<k {
                let id = ids[layer * k + r]
                guard Int(id) < shape.experts else {
                    throw TraceWriter.InvalidToken(problem: "routes layer \(layer) to expert \(id), outside 0..<\(shape.experts)")
                }
                for q in 0..<r where ids[layer * k + q] == id {
                    throw TraceWriter.InvalidToken(problem: "routes layer \(layer) to expert \(id) twice in one top-\(k)")
                }
                if let weights, !isValid(weights[layer * k + r]) {
                    throw TraceWriter.InvalidToken(problem: "has gate weight \(value(weights[layer * k + r])) at layer \(layer); valid: \(ValidRange.text(ValidRange.gateWeight)) (fp16, non-negative)")
                }
            }
        }
        return absent
    }

    /// Expert counts up to which a layer's ids are checked and ordered through a bitset over the
    /// experts (8 words); wider layers take the O(k²) loops.
    static let bitsetExperts = 512

    /// Whether every id is below `experts` and distinct within its layer and every weight is
    /// valid: one bitset word per 64 experts, set and cleared per layer.
    @inline(__always)
    private static func allValid<Weight>(ids: [UInt16], weights: [Weight]?, topK k: Int, experts: Int, isValid: (Weight) -> Bool) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: bitsetExperts / 64) { seen in
            seen.initialize(repeating: 0)
            return ids.withUnsafeBufferPointer { ids in
                // Faults are or-ed into one word (no branch per slot): an id out of range, or one
                // whose bit the layer has set already.
                var fault: UInt64 = 0
                for base in stride(from: 0, to: ids.count, by: k) {
                    for r in 0..<k {
                        let id = Int(ids[base + r])
                        let word = min(id >> 6, seen.count - 1), bit = UInt64(1) << (id & 63)
                        fault |= (id >= experts ? 1 : 0) | (seen[word] & bit)
                        seen[word] |= bit
                    }
                    for r in 0..<k { seen[min(Int(ids[base + r]) >> 6, seen.count - 1)] = 0 }
                }
                if let weights, !weights.allSatisfy(isValid) { return false }
                return fault == 0
            }
        }
    }

    /// Writes a checked token in stored order into `outIDs` (and `outWeights` when
    /// `weightBits` is given), layer l's k ids at `offset + l × layerStride` (`layerStride`
    /// k for a token-major array, a chunk's tokens × k for a layer-major one), which must
    /// have room: the layers in `absent` as the placeholders 0..<k with weight 0; with
    /// weights, each layer's ids ascending with their weights beside them (distinct ids:
    /// a bitset over the experts, or an insertion sort for wide layers); without, as given (the
    /// given order is the rank order).
    /// O(layers × (k + experts / 64)) up to ``bitsetExperts`` experts, O(layers × k²) beyond.
    static func writeStored(ids: [UInt16], weightBits: [UInt16]?, absent: Set<Int>, topK k: Int, experts: Int,
                            into outIDs: UnsafeMutableBufferPointer<UInt16>, _ outWeights: UnsafeMutableBufferPointer<UInt16>,
                            at offset: Int, layerStride: Int) {
        ids.withUnsafeBufferPointer { ids in
            (weightBits ?? []).withUnsafeBufferPointer { weights in
                withGroupScratch(topK: k) { scratch in
                    // Without weights nothing is written to `outWeights`, which may then be empty.
                    let (count, ids, outIDs) = (ids.count, ids.baseAddress!, outIDs.baseAddress!)
                    let (weights, outWeights) = weightBits == nil ? (nil, nil) : (weights.baseAddress!, outWeights.baseAddress!)
                    for base in stride(from: 0, to: count, by: k) {
                        let to = offset + base / k * layerStride
                        if !absent.isEmpty && absent.contains(base / k) {
                            writePlaceholders(topK: k, into: outIDs + to, outWeights.map { $0 + to })
                        } else if let weights, let outWeights {
                            writeGroup(ids: ids + base, weights: weights + base, topK: k, experts: experts, scratch: scratch, into: outIDs + to, outWeights + to)
                        } else {
                            (outIDs + to).update(from: ids + base, count: k)
                        }
                    }
                }
            }
        }
    }

    /// Room for ``writeGroup(ids:weights:topK:experts:scratch:into:_:)``: a bitset over up to
    /// ``bitsetExperts`` experts (cleared between groups), each id's slot, and an order of k slots.
    struct GroupScratch {
        let seen: UnsafeMutableBufferPointer<UInt64>
        let slotOf: UnsafeMutableBufferPointer<UInt16>
        let order: UnsafeMutableBufferPointer<Int>
    }

    /// Runs `body` with scratch for groups of `k` ids, valid only inside.
    @inline(__always)
    static func withGroupScratch<Result>(topK k: Int, _ body: (GroupScratch) throws -> Result) rethrows -> Result {
        try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: bitsetExperts / 64) { seen in
            try withUnsafeTemporaryAllocation(of: UInt16.self, capacity: bitsetExperts) { slotOf in
                try withUnsafeTemporaryAllocation(of: Int.self, capacity: k) { order in
                    seen.initialize(repeating: 0)
                    return try body(GroupScratch(seen: seen, slotOf: slotOf, order: order))
                }
            }
        }
    }

    /// Writes one layer's k distinct ids ascending, each with its weight beside it, from
    /// `outIDs` and `outWeights`. Up to ``bitsetExperts`` experts the ids set bits in a bitset,
    /// each id's slot noted beside it, and the set bits read in ascending order give the ids
    /// with their weights — an insertion sort's order for distinct ids, without its
    /// data-dependent branches (41% of preparing a `--like` reference went to the sort and the
    /// distinctness loop; Benchmarks/RESULTS.md, twelfth session); wider layers take the
    /// insertion sort. O(k + experts / 64), or O(k²) beyond ``bitsetExperts``.
    @inline(__always)
    static func writeGroup(ids: UnsafePointer<UInt16>, weights: UnsafePointer<UInt16>, topK k: Int, experts: Int, scratch: GroupScratch,
                           into outIDs: UnsafeMutablePointer<UInt16>, _ outWeights: UnsafeMutablePointer<UInt16>) {
        guard experts <= bitsetExperts else {
            let order = scratch.order
            for r in 0..<k {
                var at = r
                while at > 0 && ids[order[at - 1]] > ids[r] {
                    order[at] = order[at - 1]
                    at -= 1
                }
                order[at] = r
            }
            for slot in 0..<k {
                outIDs[slot] = ids[order[slot]]
                outWeights[slot] = weights[order[slot]]
            }
            return
        }
        let (seen, slotOf) = (scratch.seen, scratch.slotOf)
        var words = 0
        for r in 0..<k {
            let id = Int(ids[r])
            seen[id >> 6] |= UInt64(1) << (id & 63)
            slotOf[id] = UInt16(r)
            words = max(words, (id >> 6) + 1)
        }
        var to = 0
        for word in 0..<words {
            var bits = seen[word]
            seen[word] = 0
            while bits != 0 {
                let id = word << 6 | bits.trailingZeroBitCount
                outIDs[to] = UInt16(id)
                outWeights[to] = weights[Int(slotOf[id])]
                to += 1
                bits &= bits - 1
            }
        }
    }

    /// An absent layer's stored form: the placeholders 0..<k, with weight 0 where there are weights.
    @inline(__always)
    static func writePlaceholders(topK k: Int, into outIDs: UnsafeMutablePointer<UInt16>, _ outWeights: UnsafeMutablePointer<UInt16>?) {
        for r in 0..<k {
            outIDs[r] = UInt16(r)
            outWeights?[r] = 0
        }
    }
}
