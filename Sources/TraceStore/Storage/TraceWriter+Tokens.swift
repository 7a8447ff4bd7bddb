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
        try stage(phase: phase, ids: ids, weightBits: weights.map { $0.map { HalfPrecision.bits(rounding: $0) } }, predictions: predictions, absent: absent)
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

    /// Refuses a token whose shape, ids, weights or predictions the trace cannot hold; returns its absent layers.
    @inline(__always)
    private func checkToken<Weight>(ids: [UInt16], weights: [Weight]?, predictions: [[UInt16]], absentLayers: [Int],
                                    isValid: (Weight) -> Bool, value: (Weight) -> Float) throws -> Set<Int> {
        guard openSequence != nil else { preconditionFailure("appendToken before beginSequence") }
        let shape = metadata.shape
        let absent = try TokenCheck.check(ids: ids, weights: weights, absentLayers: absentLayers, shape: shape, hasWeights: metadata.hasWeights,
                                          isValid: isValid, value: value)
        guard predictions.count == predictionChunks.count else {
            throw InvalidToken(problem: "has predictions for \(predictions.count) lookaheads where \(predictionChunks.count) were declared")
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

    /// Appends token `index` of `prepared` to the open sequence: the same bytes as appending
    /// the token it was prepared from, without checking or sorting it again. Refused when
    /// `prepared` was checked against other layers, top-k or experts (what its checks and
    /// layout depend on; the shape's name and byte sizes do not matter), or with(out) weights
    /// where the trace is not, or when the trace records predictions (prepared tokens carry none).
    public func appendToken(phase: Phase, prepared: PreparedTokens, at index: Int) throws {
        try appendTokens(phase: phase, prepared: prepared, at: CollectionOfOne(index))
    }

    /// Appends tokens `indices` of `prepared`, in order, to the open sequence, all of `phase`:
    /// the same bytes as appending them one at a time with ``appendToken(phase:prepared:at:)``,
    /// with the writer's state reached once per chunk instead of once per token (each reach of
    /// a class's stored property is a dynamic exclusivity check, ~80 instructions; a synthesiser
    /// appends millions of tokens).
    public func appendTokens(phase: Phase, prepared: PreparedTokens, at indices: some Collection<Int>) throws {
        guard openSequence != nil else { preconditionFailure("appendToken before beginSequence") }
        let (theirs, ours) = (prepared.shape, metadata.shape)
        guard theirs.layers == ours.layers, theirs.topK == ours.topK, theirs.experts == ours.experts,
              prepared.hasWeights == metadata.hasWeights else {
            throw InvalidToken(problem: "was prepared for \(prepared.shape.layers) layers × top-\(prepared.shape.topK) of \(prepared.shape.experts) experts \(prepared.hasWeights ? "with" : "without") weights, not this trace's shape")
        }
        guard predictionChunks.isEmpty else {
            throw InvalidToken(problem: "has no predictions, but the trace declares \(predictionChunks.count) lookaheads")
        }
        precondition(indices.allSatisfy { $0 >= 0 && $0 < prepared.count }, "appendTokens: an index outside the \(prepared.count) prepared tokens")
        let chunkTokens = options.chunkTokens
        var remaining = indices[...]
        while !remaining.isEmpty {
            let first = stagedPhases.count
            let batch = remaining.prefix(chunkTokens - first)
            // Read where they lie when a compression worker encodes the chunk (`flush`): on this
            // thread the layer-major scatter bounded a fast-level synthesis.
            stagedGathers.append(PreparedGather(prepared: prepared, indices: batch.map { Int32($0) }, at: first))
            var absentLayers = 0
            if prepared.anyAbsent {
                for (offset, index) in batch.enumerated() where prepared.absentLayerCounts[index] > 0 {
                    for layer in prepared.absentLayers(of: index) { stagedAbsent.append((first + offset, layer)) }
                    absentLayers += Int(prepared.absentLayerCounts[index])
                }
            }
            let count = batch.count
            remaining = remaining.dropFirst(count)
            try stageBookkeeping(phase: phase, tokens: count, absentLayers: absentLayers)
        }
    }

    /// Stages a checked token; writes a chunk when it is full.
    private func stage(phase: Phase, ids: [UInt16], weightBits: [UInt16]?, predictions: [[UInt16]], absent: Set<Int>) throws {
        let k = metadata.shape.topK
        stagedIDs.withUnsafeMutableBufferPointer { outIDs in
            stagedWeights.withUnsafeMutableBufferPointer { outWeights in
                TokenCheck.writeStored(ids: ids, weightBits: weightBits, absent: absent, topK: k, experts: metadata.shape.experts, into: outIDs, outWeights,
                                       at: stagedPhases.count * k, layerStride: options.chunkTokens * k)
            }
        }
        for (i, predicted) in predictions.enumerated() { stagedPredictions[i].append(contentsOf: predicted) }
        for layer in absent { stagedAbsent.append((stagedPhases.count, layer)) }
        try stageBookkeeping(phase: phase, tokens: 1, absentLayers: absent.count)
    }

    /// Prepared tokens staged by reference: `indices` of `prepared` at the chunk's staged
    /// positions from `at`, read from `prepared` when the chunk is encoded.
    struct PreparedGather: Sendable {
        let prepared: PreparedTokens
        let indices: [Int32]
        let at: Int
    }

    /// Counts `tokens` staged tokens of `phase` in their sequence, run and the metadata; writes
    /// a chunk when it is full.
    private func stageBookkeeping(phase: Phase, tokens: Int, absentLayers: Int) throws {
        let sequence = openSequence!
        metadata.absentDecisions += absentLayers * metadata.shape.topK
        stagedPhases.append(contentsOf: repeatElement(phase.rawValue, count: tokens))
        let index = sequenceRows[sequence].prefill + sequenceRows[sequence].decode
        if phase == .prefill { sequenceRows[sequence].prefill += tokens } else { sequenceRows[sequence].decode += tokens }
        if let last = stagedRuns.last, last.sequence == sequence {
            stagedRuns[stagedRuns.count - 1].tokens += tokens
        } else {
            stagedRuns.append(SequenceRun(sequence: sequence, firstToken: index, tokens: tokens))
        }
        metadata.tokens += tokens
        if phase == .prefill { metadata.prefillTokens += tokens } else { metadata.decodeTokens += tokens }
        if stagedPhases.count == options.chunkTokens { try flush() }
    }
}
