extension TraceWriter {
    /// Appends one token of the open sequence.
    ///
    /// - Parameters:
    ///   - ids: layers × top-k expert ids, layer by layer (`ids[l × k + r]`).
    ///   - weights: the matching gate weights, or nil when the trace has none; stored as fp16.
    ///   - predictions: per recorded lookahead (in `metadata.predictionLookaheads` order),
    ///     layers × width predicted ids by target layer; target layers below the lookahead are ignored.
    ///   - absentLayers: layers the source lacks for this token (their ids and weights are
    ///     ignored and stored as placeholders; the trace becomes format version 2).
    public func appendToken(
        phase: Phase, ids: [UInt16], weights: [Float]? = nil, predictions: [[UInt16]] = [], absentLayers: [Int] = []
    ) throws {
        let absent = try checkToken(ids: ids, weights: weights, predictions: predictions, absentLayers: absentLayers,
                                    isValid: { ValidRange.gateWeight.contains($0) }, value: { $0 })
        try stage(phase: phase, ids: ids, weightBits: weights.map { $0.map { Float16($0).bitPattern } }, predictions: predictions, absent: absent)
    }

    /// Appends one token whose gate weights are given as the fp16 bit patterns the format
    /// stores (a synthesiser copying a trace's weights need not convert them twice); otherwise
    /// as ``appendToken(phase:ids:weights:predictions:absentLayers:)``. A weight is valid where
    /// its value would be: finite and not below zero (−0 included).
    public func appendToken(
        phase: Phase, ids: [UInt16], weightBits: [UInt16]?, predictions: [[UInt16]] = [], absentLayers: [Int] = []
    ) throws {
        let absent = try checkToken(ids: ids, weights: weightBits, predictions: predictions, absentLayers: absentLayers,
                                    isValid: WeightPayload.isValidWeight,
                                    value: { Float(Float16(bitPattern: $0)) })
        try stage(phase: phase, ids: ids, weightBits: weightBits, predictions: predictions, absent: absent)
    }

    /// Refuses a token whose shape, ids or weights the trace cannot hold; returns its absent layers.
    @inline(__always)
    private func checkToken<Weight>(ids: [UInt16], weights: [Weight]?, predictions: [[UInt16]], absentLayers: [Int],
                                    isValid: (Weight) -> Bool, value: (Weight) -> Float) throws -> Set<Int> {
        guard openSequence != nil else { preconditionFailure("appendToken before beginSequence") }
        let shape = metadata.shape
        let k = shape.topK
        guard ids.count == shape.layers * k else {
            throw InvalidToken(problem: "has \(ids.count) expert ids where \(shape.layers) layers × top-\(k) = \(shape.layers * k) were expected")
        }
        guard (weights != nil) == metadata.hasWeights else {
            throw InvalidToken(problem: metadata.hasWeights ? "has no gate weights though earlier tokens had" : "has gate weights though earlier tokens had none")
        }
        if let weights, weights.count != ids.count {
            throw InvalidToken(problem: "has \(weights.count) gate weights for \(ids.count) expert ids")
        }
        guard predictions.count == predictionChunks.count else {
            throw InvalidToken(problem: "has predictions for \(predictions.count) lookaheads where \(predictionChunks.count) were declared")
        }
        guard absentLayers.allSatisfy({ (0..<shape.layers).contains($0) }), Set(absentLayers).count < shape.layers else {
            throw InvalidToken(problem: "lacks layers \(absentLayers) of 0..<\(shape.layers): a token needs at least one layer")
        }
        let absent = absentLayers.isEmpty ? [] : Set(absentLayers)
        for layer in 0..<shape.layers where absent.isEmpty || !absent.contains(layer) {
            for r in 0..<k {
                let id = ids[layer * k + r]
                guard Int(id) < shape.experts else {
                    throw InvalidToken(problem: "routes layer \(layer) to expert \(id), outside 0..<\(shape.experts)")
                }
                for q in 0..<r where ids[layer * k + q] == id {
                    throw InvalidToken(problem: "routes layer \(layer) to expert \(id) twice in one top-\(k)")
                }
                if let weights, !isValid(weights[layer * k + r]) {
                    throw InvalidToken(problem: "has gate weight \(value(weights[layer * k + r])) at layer \(layer); valid: \(ValidRange.text(ValidRange.gateWeight)) (fp16, non-negative)")
                }
            }
        }
        for (i, predicted) in predictions.enumerated() {
            let width = metadata.predictionWidth
            guard predicted.count == shape.layers * width, !predicted.contains(where: { Int($0) >= shape.experts }) else {
                throw InvalidToken(problem: "has a prediction set at lookahead \(metadata.predictionLookaheads[i]) that is not \(shape.layers) × \(width) ids below \(shape.experts)")
            }
            let lookahead = metadata.predictionLookaheads[i]
            for target in lookahead..<max(lookahead, shape.layers) where Set(predicted[target * width..<(target + 1) * width]).count != width {
                throw InvalidToken(problem: "repeats an expert in its prediction for layer \(target) at lookahead \(lookahead)")
            }
        }
        return absent
    }

    /// Stages a checked token; writes a chunk when it is full.
    private func stage(phase: Phase, ids: [UInt16], weightBits: [UInt16]?, predictions: [[UInt16]], absent: Set<Int>) throws {
        let sequence = openSequence!
        let shape = metadata.shape
        let k = shape.topK
        var ids = ids, weightBits = weightBits
        for layer in absent {
            for r in 0..<k {
                ids[layer * k + r] = UInt16(r)
                weightBits?[layer * k + r] = 0
            }
        }
        // The staging arrays are moved into locals and filled through buffers: appending to a
        // class's stored array element by element pays a run-time exclusivity check (and a
        // uniqueness check) per element.
        var stagedIDs: [UInt16] = [], stagedWeights: [UInt16] = []
        swap(&stagedIDs, &self.stagedIDs)
        swap(&stagedWeights, &self.stagedWeights)
        if let weightBits {
            let first = stagedIDs.count
            stagedIDs.append(contentsOf: repeatElement(0, count: ids.count))
            stagedWeights.append(contentsOf: repeatElement(0, count: ids.count))
            Self.stageAscending(ids: ids, weightBits: weightBits, topK: k, into: &stagedIDs, &stagedWeights, at: first)
        } else {
            stagedIDs.append(contentsOf: ids)
        }
        swap(&stagedIDs, &self.stagedIDs)
        swap(&stagedWeights, &self.stagedWeights)
        for (i, predicted) in predictions.enumerated() { stagedPredictions[i].append(contentsOf: predicted) }
        if absent.isEmpty {
            stagedAbsent.append(contentsOf: repeatElement(false, count: shape.layers))
        } else {
            stagedAbsent.append(contentsOf: (0..<shape.layers).map { absent.contains($0) })
        }
        metadata.absentDecisions += absent.count * k
        stagedPhases.append(phase.rawValue)
        if phase == .prefill { sequenceRows[sequence].prefill += 1 } else { sequenceRows[sequence].decode += 1 }
        let index = sequenceRows[sequence].prefill + sequenceRows[sequence].decode - 1
        if let last = stagedRuns.last, last.sequence == sequence {
            stagedRuns[stagedRuns.count - 1].tokens += 1
        } else {
            stagedRuns.append(SequenceRun(sequence: sequence, firstToken: index, tokens: 1))
        }
        metadata.tokens += 1
        if phase == .prefill { metadata.prefillTokens += 1 } else { metadata.decodeTokens += 1 }
        if stagedPhases.count == options.chunkTokens { try flush() }
    }

    /// Writes each layer's `topK` ids in ascending order, with their fp16 weight bits
    /// alongside, at `offset` of the staged arrays (ids of a layer are distinct: insertion
    /// sort, k is small). O(layers × k²).
    private static func stageAscending(ids: [UInt16], weightBits: [UInt16], topK k: Int, into stagedIDs: inout [UInt16],
                                       _ stagedWeights: inout [UInt16], at offset: Int) {
        ids.withUnsafeBufferPointer { ids in
            weightBits.withUnsafeBufferPointer { weights in
                stagedIDs.withUnsafeMutableBufferPointer { outIDs in
                    stagedWeights.withUnsafeMutableBufferPointer { outWeights in
                        withUnsafeTemporaryAllocation(of: Int.self, capacity: k) { order in
                            for base in stride(from: 0, to: ids.count, by: k) {
                                for r in 0..<k {
                                    var at = r
                                    while at > 0 && ids[base + order[at - 1]] > ids[base + r] {
                                        order[at] = order[at - 1]
                                        at -= 1
                                    }
                                    order[at] = r
                                }
                                for slot in 0..<k {
                                    outIDs[offset + base + slot] = ids[base + order[slot]]
                                    outWeights[offset + base + slot] = weights[base + order[slot]]
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
