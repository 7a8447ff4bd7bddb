import OffloadSim

/// Predicts each layer's most used experts on the training split (a per-layer hot list),
/// whatever the token.
public final class PopularityPredictor: ExpertPredictor {
    /// "popularity".
    public let name = "popularity"
    public var isLearned: Bool { true }
    private let shape: PredictorShape
    private var counts: [Int]
    private var ranking: [[UInt16]] = []

    /// An untrained predictor for traces of `shape`.
    public init(shape: PredictorShape) {
        self.shape = shape
        counts = Array(repeating: 0, count: shape.layers * shape.experts)
    }

    public func learn(_ step: Step) {
        for layer in 0..<shape.layers {
            for index in step.range(layer: layer) {
                counts[layer * shape.experts + Int(step.experts[index])] += Int(step.expertTokens[index])
            }
        }
        ranking = []
    }

    /// Experts of `layer` by descending training count, ties by id.
    public func ranked(layer: Int) -> [UInt16] {
        if ranking.isEmpty {
            ranking = (0..<shape.layers).map { layer in
                let base = layer * shape.experts
                return (0..<shape.experts).sorted { counts[base + $0] != counts[base + $1] ? counts[base + $0] > counts[base + $1] : $0 < $1 }
                    .map { UInt16($0) }
            }
        }
        return ranking[layer]
    }

    public func predict(_ step: Step, token: Int, layer: Int, lookahead: Int, width: Int, into predicted: inout [UInt16]) {
        predicted.append(contentsOf: ranked(layer: layer + lookahead).prefix(width))
    }
}
