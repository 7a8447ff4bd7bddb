import OffloadSim

/// Predicts that a token uses the experts its sequence's previous token used at the target
/// layer (temporal locality). Keeps the last token's routing of each running sequence;
/// the first token of a sequence gets no prediction.
public final class PreviousTokenPredictor: ExpertPredictor {
    /// "previous-token".
    public let name = "previous-token"
    private let shape: PredictorShape
    private var last: [Int: [UInt16]] = [:]

    /// A predictor for traces of `shape`.
    public init(shape: PredictorShape) { self.shape = shape }

    public func predict(_ step: Step, token: Int, layer: Int, lookahead: Int, width: Int, into predicted: inout [UInt16]) {
        let target = layer + lookahead
        let previous: ArraySlice<UInt16>
        if token > 0 && step.tokenSequences[token - 1] == step.tokenSequences[token] {
            previous = shape.truth(step, token: token - 1, layer: target)
        } else if let routing = last[step.tokenSequences[token]] {
            previous = routing[(target * shape.topK)..<((target + 1) * shape.topK)]
        } else {
            return
        }
        predicted.append(contentsOf: previous.prefix(width).filter { $0 != Step.absentExpert })
    }

    public func observe(_ step: Step) {
        let perToken = shape.layers * shape.topK
        for token in 0..<step.tokens {
            let start = token * perToken
            last[step.tokenSequences[token]] = Array(step.tokenExperts[start..<start + perToken])
        }
        for sequence in step.finished { last[sequence] = nil }
    }
}
