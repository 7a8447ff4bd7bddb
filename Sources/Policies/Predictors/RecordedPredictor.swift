import OffloadSim

/// Replays the predictions recorded in the trace next to the routing (for example layer
/// l + d's gate applied to layer l's hidden state by the recorder): the predictor a real
/// system ran, at the lookaheads it was recorded with. Steps must be formed with those
/// lookaheads (``BatchFormer/predictionLookaheads``).
public final class RecordedPredictor: ExpertPredictor {
    /// "recorded".
    public let name = "recorded"
    private let layers: Int

    /// A predictor for traces of `layers` MoE layers.
    public init(layers: Int) { self.layers = layers }

    public func predict(_ step: Step, token: Int, layer: Int, lookahead: Int, width: Int, into predicted: inout [UInt16]) {
        guard let index = step.recordedLookaheads.firstIndex(of: lookahead) else { return }
        let target = layer + lookahead
        let w = step.recordedWidth
        let start = (token * layers + target) * w
        predicted.append(contentsOf: step.tokenPredictions[index][start..<start + w].filter { $0 != UInt16.max }.prefix(width))
    }
}
