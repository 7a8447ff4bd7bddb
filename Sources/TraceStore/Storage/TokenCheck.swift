/// What a trace accepts as one token, and the order it stores it in (traces/FORMAT.md,
/// "routing payload"): shared by ``TraceWriter``'s appends and ``PreparedTokens``, so a
/// token is refused, or stored, the same way whichever path it takes.
enum TokenCheck {
    /// Refuses a token whose shape, ids or weights a trace of `shape` cannot hold; returns
    /// the layers it lacks. O(layers × k²) for the distinctness check (k is small).
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

    /// Writes a checked token in stored order into `outIDs` (and `outWeights` when
    /// `weightBits` is given), layer l's k ids at `offset + l × layerStride` (`layerStride`
    /// k for a token-major array, a chunk's tokens × k for a layer-major one), which must
    /// have room: the layers in `absent` as the placeholders 0..<k with weight 0; with
    /// weights, each layer's ids ascending with their weights beside them (distinct ids:
    /// insertion sort, k is small); without, as given (the given order is the rank order).
    /// O(layers × k²).
    static func writeStored(ids: [UInt16], weightBits: [UInt16]?, absent: Set<Int>, topK k: Int,
                            into outIDs: UnsafeMutableBufferPointer<UInt16>, _ outWeights: UnsafeMutableBufferPointer<UInt16>,
                            at offset: Int, layerStride: Int) {
        ids.withUnsafeBufferPointer { ids in
            guard let weightBits else {
                for base in stride(from: 0, to: ids.count, by: k) {
                    let to = offset + base / k * layerStride
                    let placeholder = !absent.isEmpty && absent.contains(base / k)
                    for r in 0..<k { outIDs[to + r] = placeholder ? UInt16(r) : ids[base + r] }
                }
                return
            }
            weightBits.withUnsafeBufferPointer { weights in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: k) { order in
                    for base in stride(from: 0, to: ids.count, by: k) {
                        let to = offset + base / k * layerStride
                        if !absent.isEmpty && absent.contains(base / k) {
                            for r in 0..<k {
                                outIDs[to + r] = UInt16(r)
                                outWeights[to + r] = 0
                            }
                            continue
                        }
                        for r in 0..<k {
                            var at = r
                            while at > 0 && ids[base + order[at - 1]] > ids[base + r] {
                                order[at] = order[at - 1]
                                at -= 1
                            }
                            order[at] = r
                        }
                        for slot in 0..<k {
                            outIDs[to + slot] = ids[base + order[slot]]
                            outWeights[to + slot] = weights[base + order[slot]]
                        }
                    }
                }
            }
        }
    }
}
