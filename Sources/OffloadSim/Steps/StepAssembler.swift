import TraceStore

/// Builds a ``Step`` from tokens taken out of routing chunks: counts, per layer, the
/// tokens and gate mass each expert receives, and lists each layer's distinct experts
/// in ascending order, or in the tokens' rank order (``LookupOrder``).
///
/// Adding a token is O(layers × top-k); finishing a step is O(distinct experts × log)
/// for the per-layer sort. Memory is O(layers × experts) plus the step's tokens.
struct StepAssembler {
    let layers: Int
    let experts: Int
    let topK: Int
    let order: LookupOrder
    private var counts: [Int32]
    private var rankSlots: [Int]
    private var mass: [Float]
    private var touched: [[UInt16]]

    init(layers: Int, experts: Int, topK: Int, order: LookupOrder = .id) {
        self.layers = layers
        self.experts = experts
        self.topK = topK
        self.order = order
        rankSlots = Array(0..<topK)
        counts = Array(repeating: 0, count: layers * experts)
        mass = Array(repeating: 0, count: layers * experts)
        touched = Array(repeating: [], count: layers)
    }

    /// Starts `step` afresh.
    func begin(_ step: inout Step, index: Int, phase: Phase) {
        step.index = index
        step.phase = phase
        step.tokens = 0
        step.kvTokens = 0
        step.scorePairs = 0
        step.sequences.removeAll(keepingCapacity: true)
        step.admitted.removeAll(keepingCapacity: true)
        step.firstTokens.removeAll(keepingCapacity: true)
        step.finished.removeAll(keepingCapacity: true)
        step.tokenExperts.removeAll(keepingCapacity: true)
        step.tokenWeights.removeAll(keepingCapacity: true)
        step.tokenSequences.removeAll(keepingCapacity: true)
        for index in step.tokenPredictions.indices { step.tokenPredictions[index].removeAll(keepingCapacity: true) }
    }

    /// Adds the recorded predictions of token `token` of the current chunk.
    func addPredictions(token: Int, from predictions: [PredictionChunk], into step: inout Step) {
        if step.tokenPredictions.count != predictions.count {
            step.tokenPredictions = Array(repeating: [], count: predictions.count)
            step.recordedLookaheads = predictions.map(\.lookahead)
            step.recordedWidth = predictions.first?.width ?? 0
        }
        for (index, chunk) in predictions.enumerated() {
            for layer in 0..<layers {
                if layer < chunk.lookahead {
                    step.tokenPredictions[index].append(contentsOf: repeatElement(UInt16.max, count: chunk.width))
                } else {
                    step.tokenPredictions[index].append(contentsOf: chunk.predicted(token: token, targetLayer: layer))
                }
            }
        }
    }

    /// Adds token `token` of `chunk`, of sequence `sequence`, to the step.
    mutating func add(token: Int, of chunk: RoutingChunk, sequence: Int, into step: inout Step) {
        step.tokenSequences.append(sequence)
        let weighted = chunk.hasWeights
        if order == .rank { noteRankOrder(token: token, of: chunk) }
        chunk.ids.withUnsafeBufferPointer { ids in
            chunk.weightBits.withUnsafeBufferPointer { weights in
                counts.withUnsafeMutableBufferPointer { counts in
                    mass.withUnsafeMutableBufferPointer { mass in
                        for layer in 0..<layers {
                            let start = (layer * chunk.tokenCount + token) * topK
                            let base = layer * experts
                            if chunk.isAbsent(token: token, layer: layer) {
                                // The token lacks this layer: no lookup; its per-token entries say so.
                                for _ in 0..<topK {
                                    step.tokenExperts.append(Step.absentExpert)
                                    step.tokenWeights.append(.nan)
                                }
                                continue
                            }
                            for slot in start..<start + topK {
                                let expert = ids[slot]
                                let key = base + Int(expert)
                                if counts[key] == 0 && order == .id { touched[layer].append(expert) }
                                counts[key] += 1
                                let weight = weighted ? Float(Float16(bitPattern: weights[slot])) : .nan
                                if weighted { mass[key] += weight }
                                step.tokenExperts.append(expert)
                                step.tokenWeights.append(weight)
                            }
                        }
                    }
                }
            }
        }
        step.tokens += 1
    }

    /// Under rank order, appends the token's experts not yet seen in this step to each layer's
    /// list, by descending gate weight (ties: lower id), or in stored order without weights.
    private mutating func noteRankOrder(token: Int, of chunk: RoutingChunk) {
        for layer in 0..<layers where !chunk.isAbsent(token: token, layer: layer) {
            let start = chunk.offset(token: token, layer: layer)
            if chunk.hasWeights {
                // Insertion sort of the k slots: k is small.
                for index in 0..<topK { rankSlots[index] = index }
                for index in 1..<max(topK, 1) {
                    var position = index
                    let slot = rankSlots[index]
                    while position > 0 && Self.ranksBefore(slot, rankSlots[position - 1], start: start, in: chunk) {
                        rankSlots[position] = rankSlots[position - 1]
                        position -= 1
                    }
                    rankSlots[position] = slot
                }
            }
            let base = layer * experts
            for index in 0..<topK {
                let expert = chunk.ids[start + (chunk.hasWeights ? rankSlots[index] : index)]
                if counts[base + Int(expert)] == 0 { touched[layer].append(expert) }
            }
        }
    }

    private static func ranksBefore(_ a: Int, _ b: Int, start: Int, in chunk: RoutingChunk) -> Bool {
        let wa = Float(Float16(bitPattern: chunk.weightBits[start + a])), wb = Float(Float16(bitPattern: chunk.weightBits[start + b]))
        return wa != wb ? wa > wb : chunk.ids[start + a] < chunk.ids[start + b]
    }

    /// Writes the per-layer expert lists into `step` and clears the counters.
    mutating func finish(_ step: inout Step, weighted: Bool) {
        step.layerStart.removeAll(keepingCapacity: true)
        step.experts.removeAll(keepingCapacity: true)
        step.expertTokens.removeAll(keepingCapacity: true)
        step.expertGateMass.removeAll(keepingCapacity: true)
        for layer in 0..<layers {
            step.layerStart.append(step.experts.count)
            if order == .id { touched[layer].sort() }
            let base = layer * experts
            for expert in touched[layer] {
                let key = base + Int(expert)
                step.experts.append(expert)
                step.expertTokens.append(counts[key])
                step.expertGateMass.append(weighted ? mass[key] : .nan)
                counts[key] = 0
                mass[key] = 0
            }
            touched[layer].removeAll(keepingCapacity: true)
        }
        step.layerStart.append(step.experts.count)
    }
}
