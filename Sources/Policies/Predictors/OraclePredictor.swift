import OffloadSim

/// The upper bound: the true experts of the target layer, read from the trace.
public final class OraclePredictor: ExpertPredictor {
    /// "oracle".
    public let name = "oracle"
    private let shape: PredictorShape

    /// An oracle for traces of `shape`.
    public init(shape: PredictorShape) { self.shape = shape }

    public func predict(_ step: Step, token: Int, layer: Int, lookahead: Int, width: Int, into predicted: inout [UInt16]) {
        predicted.append(contentsOf: shape.truth(step, token: token, layer: layer + lookahead).prefix(width))
    }
}
