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
    /// What the steps carry beyond each layer's distinct experts and their token counts.
    let content: StepContent
    private var counts: [Int32]
    private var rankSlots: [Int]
    private var mass: [Float]
    /// Each layer's distinct experts so far, in `experts` slots per layer (flat, so that
    /// adding one is a store, not an append to a nested array).
    private var touched: [UInt16]
    private var touchedCount: [Int]

    init(layers: Int, experts: Int, topK: Int, order: LookupOrder = .id, content: StepContent = .tokens) {
        self.content = content
        self.layers = layers
        self.experts = experts
        self.topK = topK
        self.order = order
        rankSlots = Array(0..<topK)
        counts = Array(repeating: 0, count: layers * experts)
        mass = Array(repeating: 0, count: layers * experts)
        touched = Array(repeating: 0, count: layers * experts)
        touchedCount = Array(repeating: 0, count: layers)
    }

    /// Starts `step` afresh.
    func begin(_ step: inout Step, index: Int, phase: Phase) {
        step.index = index
        step.phase = phase
        step.tokens = 0
        step.decisions = 0
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
        let keepsTokens = content == .tokens
        let weighted = chunk.hasWeights && content != .lookups
        if order == .rank { noteRankOrder(token: token, of: chunk) }
        // The token's entries, layer by layer; an absent layer keeps these (no lookup; its entries say so).
        let first = step.tokenExperts.count
        if keepsTokens {
            step.tokenSequences.append(sequence)
            step.tokenExperts.append(contentsOf: repeatElement(Step.absentExpert, count: layers * topK))
            step.tokenWeights.append(contentsOf: repeatElement(.nan, count: layers * topK))
        }
        let (layers, experts, topK, byID) = (layers, experts, topK, order == .id)
        let halves = HalfPrecisionTable.values
        chunk.ids.withUnsafeBufferPointer { ids in
            chunk.weightBits.withUnsafeBufferPointer { weights in
                counts.withUnsafeMutableBufferPointer { counts in
                    mass.withUnsafeMutableBufferPointer { mass in
                        touched.withUnsafeMutableBufferPointer { touched in
                            touchedCount.withUnsafeMutableBufferPointer { touchedCount in
                                step.tokenExperts.withUnsafeMutableBufferPointer { tokenExperts in
                                    step.tokenWeights.withUnsafeMutableBufferPointer { tokenWeights in
                                        for layer in 0..<layers where !chunk.isAbsent(token: token, layer: layer) {
                                            let start = (layer * chunk.tokenCount + token) * topK
                                            let base = layer * experts
                                            for rank in 0..<topK {
                                                let slot = start + rank
                                                let expert = ids[slot]
                                                let key = base + Int(expert)
                                                if counts[key] == 0 && byID {
                                                    touched[base + touchedCount[layer]] = expert
                                                    touchedCount[layer] += 1
                                                }
                                                counts[key] += 1
                                                let weight = weighted ? halves[Int(weights[slot])] : .nan
                                                if weighted { mass[key] += weight }
                                                guard keepsTokens else { continue }
                                                tokenExperts[first + layer * topK + rank] = expert
                                                tokenWeights[first + layer * topK + rank] = weight
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        step.tokens += 1
        step.decisions += layers * topK
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
                if counts[base + Int(expert)] == 0 {
                    touched[base + touchedCount[layer]] = expert
                    touchedCount[layer] += 1
                }
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
        Self.sizeExpertLists(of: &step, to: touchedCount.reduce(0, +))
        var start = 0
        for count in touchedCount {
            step.layerStart.append(start)
            start += count
        }
        step.layerStart.append(start)
        // Filled apart from the step, whose other arrays the loop below holds open.
        var layerMass: [Double] = []
        swap(&layerMass, &step.layerRoutedMass)
        layerMass.removeAll(keepingCapacity: true)
        let (experts, byID) = (experts, order == .id)
        touched.withUnsafeMutableBufferPointer { touched in
            touchedCount.withUnsafeMutableBufferPointer { touchedCount in
                counts.withUnsafeMutableBufferPointer { counts in
                    mass.withUnsafeMutableBufferPointer { mass in
                        step.experts.withUnsafeMutableBufferPointer { stepExperts in
                            step.expertTokens.withUnsafeMutableBufferPointer { stepTokens in
                                step.expertGateMass.withUnsafeMutableBufferPointer { stepMass in
                                    var next = 0
                                    for layer in 0..<touchedCount.count {
                                        let base = layer * experts
                                        let list = UnsafeMutableBufferPointer(rebasing: touched[base..<base + touchedCount[layer]])
                                        if byID { Self.sortAscending(list) }
                                        var routed = 0.0
                                        for expert in list {
                                            let key = base + Int(expert)
                                            stepExperts[next] = expert
                                            stepTokens[next] = counts[key]
                                            if weighted { stepMass[next] = mass[key] }
                                            routed += weighted && !mass[key].isNaN ? Double(mass[key]) : Double(counts[key])
                                            counts[key] = 0
                                            mass[key] = 0
                                            next += 1
                                        }
                                        layerMass.append(routed)
                                        touchedCount[layer] = 0
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        step.layerRoutedMass = layerMass
    }

    /// Empties `step`'s per-expert lists (``Step/experts``, ``Step/expertTokens``,
    /// ``Step/expertGateMass``) and makes them `count` long (ids 0, counts 0, mass NaN), keeping
    /// their capacity, so that they are written through pointers (appending one at a time checks
    /// each array's uniqueness and capacity every time).
    static func sizeExpertLists(of step: inout Step, to count: Int) {
        step.experts.removeAll(keepingCapacity: true)
        step.expertTokens.removeAll(keepingCapacity: true)
        step.expertGateMass.removeAll(keepingCapacity: true)
        step.experts.append(contentsOf: repeatElement(0, count: count))
        step.expertTokens.append(contentsOf: repeatElement(0, count: count))
        step.expertGateMass.append(contentsOf: repeatElement(.nan, count: count))
    }

    /// Sorts a layer's distinct experts: insertion sort for the few a decode step has
    /// (a library sort's set-up costs more than the sorting there), the library's otherwise.
    private static func sortAscending(_ list: UnsafeMutableBufferPointer<UInt16>) {
        guard list.count <= 32 else {
            var list = list
            return list.sort()
        }
        for index in list.indices.dropFirst() {
            let value = list[index]
            var position = index
            while position > 0 && list[position - 1] > value {
                list[position] = list[position - 1]
                position -= 1
            }
            list[position] = value
        }
    }
}
