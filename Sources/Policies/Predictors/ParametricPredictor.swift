import OffloadSim
import TraceStore

/// The stand-in for a hidden-state predictor whose published accuracy is known: each true
/// expert of the target layer is revealed with probability `recall` (per layer when
/// `layerRecall` is given), and the rest of the set is filled with experts drawn
/// uniformly from the wrong ones, so the set always has `width` members. Seeded: the
/// same seed and query order give the same sets.
public final class ParametricPredictor: ExpertPredictor {
    public let name: String
    /// Probability that a true expert is in the predicted set.
    public let recall: Double
    /// Per target layer recall, overriding `recall` where given.
    public let layerRecall: [Double]?
    private let shape: PredictorShape
    private var random: SplitMix64

    /// A predictor of the given recall, drawing from the stream `seed`.
    public init(shape: PredictorShape, recall: Double, layerRecall: [Double]? = nil, seed: UInt64) {
        self.shape = shape
        self.recall = recall
        self.layerRecall = layerRecall
        random = SplitMix64(seed: seed, stream: "parametric-predictor")
        name = layerRecall == nil ? "parametric r=\(Format.fixed(recall, 2))" : "parametric per-layer recall"
    }

    public func predict(_ step: Step, token: Int, layer: Int, lookahead: Int, width: Int, into predicted: inout [UInt16]) {
        let target = layer + lookahead
        let r = layerRecall.map { $0[min(target, $0.count - 1)] } ?? recall
        let truth = shape.truth(step, token: token, layer: target)
        guard !truth.isEmpty else { return }  // the token lacks the target layer: nothing to reveal
        let start = predicted.count
        for expert in truth where random.uniform() < r && predicted.count - start < width { predicted.append(expert) }
        let wanted = min(width, shape.experts)
        var attempts = 0
        while predicted.count - start < wanted && attempts < 64 * shape.experts {
            attempts += 1
            let candidate = UInt16(random.int(below: shape.experts))
            if !truth.contains(candidate) && !predicted[start...].contains(candidate) { predicted.append(candidate) }
            if truth.count + (predicted.count - start) >= shape.experts { break }
        }
    }
}
