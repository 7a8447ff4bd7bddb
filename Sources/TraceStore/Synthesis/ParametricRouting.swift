import Foundation

/// Synthetic routing from simple parameters, for when no reference trace is given:
/// each layer's experts are drawn without repeats from a Zipf(1) popularity over a
/// seeded permutation of the experts; then each of a token's k slots is, with
/// probability `reuse`, replaced by one of the previous token's experts at that layer.
/// Layers are independent (no cross-layer affinity). Gate weights are a flat
/// Dirichlet(1) draw over the top-k, sorted in descending order.
struct ParametricRouting: SyntheticRouting {
    let shape: ModelShape
    let seed: UInt64
    let reuse: Double
    let shapes: [SequenceShape]
    let hasWeights = true
    var origin: String {
        "parametric generator (Zipf(1) popularity per layer, reuse probability \(reuse), no cross-layer affinity, Dirichlet(1) top-k weights; no reference trace)"
    }
    private let popularity: [CumulativeDistribution]

    init(shape: ModelShape, seed: UInt64, reuse: Double = 0.3, shapes: [SequenceShape]) {
        self.shape = shape
        self.seed = seed
        self.reuse = reuse
        self.shapes = shapes
        var random = SplitMix64(seed: seed, stream: "synth.popularity")
        popularity = (0..<shape.layers).map { _ in
            let order = Array(0..<shape.experts).shuffled(using: &random)
            var weights = [Double](repeating: 0, count: shape.experts)
            for (rank, expert) in order.enumerated() { weights[expert] = 1 / Double(rank + 1) }
            var total = 0.0
            return CumulativeDistribution(cumulative: weights.map { total += $0; return total })
        }
    }

    func generate(tokens count: Int, _ body: (Int, Phase, [UInt16], [UInt16], [Int]) throws -> Void) rethrows {
        let k = shape.topK, experts = shape.experts, layers = shape.layers
        var routing = SplitMix64(seed: seed, stream: "synth.routing")
        var weighting = SplitMix64(seed: seed, stream: "synth.weights")
        var sequencing = SplitMix64(seed: seed, stream: "synth.sequences")
        var ids = [UInt16](repeating: 0, count: layers * k)
        var previous = ids
        var weights = [UInt16](repeating: 0, count: layers * k)
        var chosen = [Bool](repeating: false, count: experts)
        var draws = [Float](repeating: 0, count: k)
        var produced = 0, sequence = 0
        while produced < count {
            let template = shapes[sequencing.int(below: shapes.count)]
            let length = min(max(1, template.tokens), count - produced)
            for position in 0..<length {
                for l in 0..<layers {
                    let base = l * k
                    for r in 0..<k {
                        var pick = popularity[l].index(uniform: routing.uniform())
                        if position > 0, routing.uniform() < reuse {
                            let candidate = Int(previous[base + routing.int(below: k)])
                            if !chosen[candidate] { pick = candidate }
                        }
                        while chosen[pick] { pick = popularity[l].index(uniform: routing.uniform()) }
                        chosen[pick] = true
                        ids[base + r] = UInt16(pick)
                    }
                    for r in 0..<k { chosen[Int(ids[base + r])] = false }
                    // Summed in draw order, then sorted descending (equal values are equal bits,
                    // so the order among them does not matter), in a buffer kept across layers.
                    var total: Float = 0
                    for r in 0..<k {
                        draws[r] = Float(-log(1 - weighting.uniform()))
                        total += draws[r]
                    }
                    draws.sort(by: >)
                    for r in 0..<k { weights[base + r] = Float16(draws[r] / total).bitPattern }
                }
                try body(sequence, position < template.prefill ? .prefill : .decode, ids, weights, [])
                previous = ids
                produced += 1
            }
            sequence += 1
        }
    }
}
