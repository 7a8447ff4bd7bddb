import OffloadSim

/// Predicts layer l + d's experts from layer l's by co-activation counted on the training
/// split: expert e' scores the number of training tokens that used e' at l + d together
/// with each of the token's experts at l; ties go to the more popular expert. The
/// learned analogue of applying layer l + d's gate to layer l's state (Fate, arXiv
/// 2502.12224). Memory: lookaheads × layers × experts² counters.
public final class CrossLayerPredictor: ExpertPredictor {
    /// The most counters it keeps: 2^26 (256 MiB of UInt32; DeepSeek-V3, 58 × 256², needs about 3.8 M at one lookahead).
    public static let largestCounters = 1 << 26
    /// "cross-layer".
    public let name = "cross-layer"
    public var isLearned: Bool { true }
    private let shape: PredictorShape
    /// Lookaheads this predictor learns (others predict nothing).
    public let lookaheads: [Int]
    private var counts: [[UInt32]]
    private let popularity: PopularityPredictor
    private var scores: [UInt64]

    /// An untrained predictor for `lookaheads`.
    public init(shape: PredictorShape, lookaheads: [Int]) {
        self.shape = shape
        self.lookaheads = lookaheads
        let size = shape.layers * shape.experts * shape.experts
        counts = lookaheads.map { _ in Array(repeating: 0, count: size) }
        popularity = PopularityPredictor(shape: shape)
        scores = Array(repeating: 0, count: shape.experts)
    }

    public func learn(_ step: Step) {
        popularity.learn(step)
        let experts = shape.experts
        for (slot, d) in lookaheads.enumerated() {
            counts[slot].withUnsafeMutableBufferPointer { table in
                for token in 0..<step.tokens {
                    for layer in 0..<max(0, shape.layers - d) {
                        let from = shape.truth(step, token: token, layer: layer)
                        let to = shape.truth(step, token: token, layer: layer + d)
                        for e in from {
                            let base = (layer * experts + Int(e)) * experts
                            for f in to { table[base + Int(f)] &+= 1 }
                        }
                    }
                }
            }
        }
    }

    public func predict(_ step: Step, token: Int, layer: Int, lookahead: Int, width: Int, into predicted: inout [UInt16]) {
        guard let slot = lookaheads.firstIndex(of: lookahead), layer + lookahead < shape.layers else { return }
        let experts = shape.experts
        let ranked = popularity.ranked(layer: layer + lookahead)
        // Score = co-activation count, then popularity rank as the tie-break (lower rank wins).
        for (rank, expert) in ranked.enumerated() { scores[Int(expert)] = UInt64(experts - rank) }
        for e in shape.truth(step, token: token, layer: layer) {
            let base = (layer * experts + Int(e)) * experts
            for f in 0..<experts { scores[f] += UInt64(counts[slot][base + f]) << 20 }
        }
        let chosen = (0..<experts).sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(width)
        predicted.append(contentsOf: chosen.map { UInt16($0) })
    }
}
