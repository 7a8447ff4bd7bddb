/// How well layer l's experts predict layer l + 1's, measured as the recall of a
/// co-activation predictor: score each expert e' of layer l + 1 by
/// Σ over e in S(l) of P(e' at l + 1 | e at l), take the top-k, and count how many of
/// the token's true top-k it holds. The conditional probabilities are fitted on the
/// same trace (in-sample), so this is a property of the trace, not a held-out accuracy.
///
/// The popularity baseline predicts layer l + 1's k most used experts for every token;
/// affinity above it is structure that a cross-layer predictor can exploit.
/// Cost: O(k × experts) per token and layer.
struct CrossLayerAffinity {
    let counts: RoutingCounts
    private var scores: [Double]
    private var order: [Int]
    private var popularTop: [[Bool]]
    /// Per layer l < layers − 1: predicted experts of layer l + 1 that were right, summed.
    private(set) var hits: [Int]
    /// The same for the popularity baseline.
    private(set) var popularityHits: [Int]
    /// Per layer l, tokens that have both l and l + 1 (the recalls' denominators).
    private(set) var pairs: [Int]
    /// P(e' at l + 1 | e at l), row-major per (l, e).
    let conditional: [Double]

    init(counts: RoutingCounts) {
        self.counts = counts
        let experts = counts.experts
        var conditional = [Double](repeating: 0, count: counts.coactivation.count)
        for l in 0..<(counts.coactivation.isEmpty ? 0 : max(0, counts.layers - 1)) {
            for e in 0..<experts {
                let n = counts.activations[l * experts + e]
                guard n > 0 else { continue }
                let row = (l * experts + e) * experts
                for f in 0..<experts { conditional[row + f] = Double(counts.coactivation[row + f]) / Double(n) }
            }
        }
        self.conditional = conditional
        scores = Array(repeating: 0, count: experts)
        order = Array(0..<experts)
        hits = Array(repeating: 0, count: max(0, counts.layers - 1))
        popularityHits = hits
        pairs = hits
        popularTop = (0..<counts.layers).map { layer in
            let popularity = counts.popularity(layer: layer)
            let top = Set(Array(0..<experts).sorted { popularity[$0] != popularity[$1] ? popularity[$0] > popularity[$1] : $0 < $1 }.prefix(counts.topK))
            return (0..<experts).map { top.contains($0) }
        }
    }

    /// Scores one token (layers × top-k ids, layer-major).
    mutating func add(_ ids: UnsafeBufferPointer<UInt16>, absent: UnsafeBufferPointer<Bool>) {
        guard counts.tracksCoactivation else { return }
        let k = counts.topK
        for l in 0..<max(0, counts.layers - 1) where absent.isEmpty || (!absent[l] && !absent[l + 1]) {
            pairs[l] += 1
            distribution(layer: l, given: ids[l * k..<(l + 1) * k], into: &scores)
            let predicted = Self.topIndices(scores, k, &order)
            for r in 0..<k {
                let truth = Int(ids[(l + 1) * k + r])
                if predicted.contains(truth) { hits[l] += 1 }
                if popularTop[l + 1][truth] { popularityHits[l] += 1 }
            }
        }
    }

    /// Unnormalised P(expert at l + 1 | the set `given` at l), written into `scores`.
    func distribution(layer l: Int, given: some Collection<UInt16>, into scores: inout [Double]) {
        let experts = counts.experts
        for f in 0..<experts { scores[f] = 0 }
        for e in given {
            let row = (l * experts + Int(e)) * experts
            for f in 0..<experts { scores[f] += conditional[row + f] }
        }
    }

    /// Recall of the co-activation predictor from layer `l` to `l + 1`.
    func recall(layer l: Int) -> Double { Double(hits[l]) / Double(max(1, pairs[l] * counts.topK)) }

    /// Recall of the popularity baseline for layer `l + 1`.
    func popularityRecall(layer l: Int) -> Double { Double(popularityHits[l]) / Double(max(1, pairs[l] * counts.topK)) }

    /// The `k` highest-scoring indices (ties to the lower index), by partial selection.
    static func topIndices(_ scores: [Double], _ k: Int, _ order: inout [Int]) -> ArraySlice<Int> {
        for i in order.indices { order[i] = i }
        for i in 0..<k {
            var best = i
            for j in (i + 1)..<order.count {
                let a = order[j], b = order[best]
                if scores[a] > scores[b] || (scores[a] == scores[b] && a < b) { best = j }
            }
            order.swapAt(i, best)
        }
        return order[0..<k]
    }
}
