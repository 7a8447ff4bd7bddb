import Dispatch
import Foundation

extension BlockBootstrapRouting {
    /// A reference trace's first tokens as the bootstrap copies them: relabelled and in stored
    /// order, with each one's sequence and phase.
    struct Reference {
        let tokens: PreparedTokens
        let sequenceOf: [Int32]
        let phaseOf: [Phase]
    }

    /// Reads the first `limit` tokens of `reference`, relabelling layer l's ids by
    /// `permutation[l]` (a permutation of the experts) and storing each token-layer as the
    /// writer does (ascending ids with their weights beside them where there are weights).
    ///
    /// The chunks are split between threads (up to the cores, four at most), each with its
    /// own reader and cursor, and go from the decoded chunk, layer by layer, straight into
    /// their place in the prepared tokens, unchecked: the decoder has checked every id's range
    /// and distinctness and every weight, and a permutation keeps ids in range and distinct.
    /// Token by token through the checked ``PreparedTokens/append(ids:weightBits:absentLayers:)``
    /// this was 0.14 s of a 1.08 s `trace synth --like` of a million ESFT tokens, on one
    /// thread before any writing (Benchmarks/RESULTS.md, thirteenth session). The same
    /// tokens whatever the number of threads. O(tokens × layers × (k + experts / 64)).
    static func readReference(_ reference: TraceReader, permutation: [[UInt16]], limit: Int) throws -> Reference {
        let shape = reference.metadata.shape, hasWeights = reference.metadata.hasWeights
        let starts = try reference.chunkStarts()
        let held = min(limit, reference.metadata.tokens)
        let chunks = starts.firstIndex(where: { $0 >= held }) ?? starts.count - 1
        let pieces = max(1, min(chunks, 4, ProcessInfo.processInfo.activeProcessorCount))
        let sequenceOf = UnsafeMutableBufferPointer<Int32>.allocate(capacity: held)
        let phaseOf = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: held)
        defer {
            sequenceOf.deallocate()
            phaseOf.deallocate()
        }
        let path = reference.path
        let tokens = try PreparedTokens(shape: shape, hasWeights: hasWeights, count: held) { storage in
            // Each thread writes only its own chunks' tokens.
            nonisolated(unsafe) let (sequenceOf, phaseOf) = (sequenceOf, phaseOf)
            try DispatchQueue.concurrentPerform(iterations: pieces) { piece in
                let reader = try TraceReader(path: path)
                let first = chunks * piece / pieces, end = chunks * (piece + 1) / pieces
                let cursor = try reader.chunks(from: first)
                var chunk = cursor.makeChunk()
                for index in first..<end {
                    guard try cursor.next(into: &chunk) else { throw reader.corrupt("chunk \(index)", "is missing") }
                    let (token, count) = (starts[index], min(chunk.tokenCount, held - starts[index]))
                    try prepare(chunk, tokens: count, at: token, permutation: permutation, into: storage, file: reader)
                    var t = 0
                    for run in chunk.runs where t < count {
                        for _ in 0..<min(run.tokens, count - t) {
                            sequenceOf[token + t] = Int32(run.sequence)
                            phaseOf[token + t] = chunk.phases[t]
                            t += 1
                        }
                    }
                }
            }
        }
        return Reference(tokens: tokens, sequenceOf: Array(sequenceOf), phaseOf: phaseOf.map { Phase(rawValue: $0) ?? .prefill })
    }

    /// Writes the first `count` tokens of `chunk` as tokens `token...` of `storage`, each
    /// layer's ids relabelled by `permutation`: layer by layer, as both are laid out.
    private static func prepare(_ chunk: RoutingChunk, tokens count: Int, at token: Int, permutation: [[UInt16]], into storage: PreparedTokens.Storage,
                                file reader: TraceReader) throws {
        let (layers, k, experts) = (chunk.layers, chunk.topK, storage.shape.experts)
        let absentCounts = storage.absentLayerCounts + token
        absentCounts.initialize(repeating: 0, count: count)
        chunk.ids.withUnsafeBufferPointer { ids in
            chunk.weightBits.withUnsafeBufferPointer { weights in
                TokenCheck.withGroupScratch(topK: k) { scratch in
                    withUnsafeTemporaryAllocation(of: UInt16.self, capacity: k) { relabelled in
                        for layer in 0..<layers {
                            permutation[layer].withUnsafeBufferPointer { relabel in
                                for t in 0..<count {
                                    let (block, to) = storage.location(of: token + t, layer: layer)
                                    let outIDs = storage.ids[block] + to, outWeights = storage.weightBits.map { $0[block] + to }
                                    let absent = chunk.isAbsent(token: t, layer: layer)
                                    storage.absent[(token + t) * layers + layer] = absent
                                    if absent {
                                        absentCounts[t] += 1
                                        TokenCheck.writePlaceholders(topK: k, into: outIDs, outWeights)
                                        continue
                                    }
                                    let from = chunk.offset(token: t, layer: layer)
                                    for r in 0..<k { relabelled[r] = relabel[Int(ids[from + r])] }
                                    if let outWeights {
                                        TokenCheck.writeGroup(ids: relabelled.baseAddress!, weights: weights.baseAddress! + from, topK: k, experts: experts,
                                                              scratch: scratch, into: outIDs, outWeights)
                                    } else {
                                        outIDs.update(from: relabelled.baseAddress!, count: k)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let t = (0..<count).first(where: { Int(absentCounts[$0]) == layers }) {
            throw reader.corrupt("chunk \(chunk.index)", "has token \(t) without any layer's routing; a token needs at least one layer")
        }
    }
}
