import TraceStore

extension StepAssembler {
    /// Whether a step of one token can be written by ``assembleSingle(token:of:into:weighted:)``:
    /// experts in id order, and no per-token routing kept.
    var assemblesSingleTokens: Bool { order == .id && content != .tokens }

    /// Writes into `step` what ``add(token:of:sequence:into:)`` of `token` of `chunk` and then
    /// ``finish(_:weighted:)`` would: each present layer's distinct experts in ascending order with
    /// their token counts, gate mass (summed in rank order from zero, as the counters do; NaN
    /// unless `weighted`) and the layer's routed mass. Without the per-key counters that a step
    /// of many tokens needs: a stable insertion sort of each layer's k ids (a repeated id keeps
    /// rank order) and one pass, through pointers. O(layers × k²), k the top-k.
    mutating func assembleSingle(token: Int, of chunk: RoutingChunk, into step: inout Step, weighted: Bool) {
        precondition(assemblesSingleTokens && step.tokens == 0)
        let (layers, topK) = (layers, topK)
        // As in `add` and `finish`: the mass is summed where the chunk has weights and the content
        // keeps them, and written where `weighted`.
        let summed = chunk.hasWeights && content != .lookups
        // Room for every slot, cut to what was written at the end.
        let room = layers * topK
        Self.sizeExpertLists(of: &step, to: room)
        var layerStart: [Int] = []
        var layerMass: [Double] = []
        swap(&layerStart, &step.layerStart)
        swap(&layerMass, &step.layerRoutedMass)
        layerStart.removeAll(keepingCapacity: true)
        layerMass.removeAll(keepingCapacity: true)
        let halves = HalfPrecisionTable.values
        var written = 0
        chunk.ids.withUnsafeBufferPointer { ids in
            chunk.weightBits.withUnsafeBufferPointer { weights in
                step.experts.withUnsafeMutableBufferPointer { stepExperts in
                    step.expertTokens.withUnsafeMutableBufferPointer { stepTokens in
                        step.expertGateMass.withUnsafeMutableBufferPointer { stepMass in
                            withUnsafeTemporaryAllocation(of: (id: UInt16, slot: Int).self, capacity: max(topK, 1)) { sorted in
                                for layer in 0..<layers {
                                    layerStart.append(written)
                                    guard !chunk.isAbsent(token: token, layer: layer) else {
                                        layerMass.append(0)
                                        continue
                                    }
                                    let start = (layer * chunk.tokenCount + token) * topK
                                    for rank in 0..<topK {
                                        let id = ids[start &+ rank]
                                        var position = rank
                                        while position > 0 && sorted[position &- 1].id > id {
                                            sorted[position] = sorted[position &- 1]
                                            position &-= 1
                                        }
                                        sorted[position] = (id, start &+ rank)
                                    }
                                    // A repeated id (which the counters would merge) joins the entry before it.
                                    let first = written
                                    for index in 0..<topK {
                                        let (id, slot) = sorted[index]
                                        let weight: Float = summed ? halves[Int(weights[slot])] : 0
                                        if written > first && stepExperts[written &- 1] == id {
                                            stepTokens[written &- 1] += 1
                                            stepMass[written &- 1] += weight
                                        } else {
                                            stepExperts[written] = id
                                            stepTokens[written] = 1
                                            stepMass[written] = 0 + weight
                                            written &+= 1
                                        }
                                    }
                                    var routed = 0.0
                                    for entry in first..<written {
                                        if !weighted { stepMass[entry] = .nan }
                                        routed += weighted && !stepMass[entry].isNaN ? Double(stepMass[entry]) : Double(stepTokens[entry])
                                    }
                                    layerMass.append(routed)
                                }
                            }
                        }
                    }
                }
            }
        }
        layerStart.append(written)
        step.layerStart = layerStart
        step.layerRoutedMass = layerMass
        step.experts.removeLast(room - written)
        step.expertTokens.removeLast(room - written)
        step.expertGateMass.removeLast(room - written)
        step.tokens += 1
        step.decisions += layers * topK
    }
}
