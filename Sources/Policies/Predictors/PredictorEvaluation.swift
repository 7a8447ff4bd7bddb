import Foundation
import OffloadSim
import TraceStore

/// How well a predictor anticipates routing on held-out sequences: for every test token,
/// every source layer l and a lookahead d, the predicted set for layer l + d against the
/// token's true k experts there. recall@w = true experts predicted / true experts;
/// precision = true experts predicted / experts predicted.
public struct PredictorEvaluation: Sendable, Encodable {
    /// One target layer's counts.
    public struct LayerScore: Sendable, Encodable, Equatable {
        /// Target layer.
        public var layer: Int
        /// True experts that were predicted.
        public var hits = 0
        /// True experts.
        public var truths = 0
        /// Experts predicted.
        public var predicted = 0
        /// hits / truths.
        public var recall: Double { truths == 0 ? 0 : Double(hits) / Double(truths) }
        /// hits / predicted.
        public var precision: Double { predicted == 0 ? 0 : Double(hits) / Double(predicted) }

        enum CodingKeys: String, CodingKey { case layer, hits, truths, predicted, recall, precision }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(layer, forKey: .layer)
            try c.encode(hits, forKey: .hits)
            try c.encode(truths, forKey: .truths)
            try c.encode(predicted, forKey: .predicted)
            try c.encode(recall, forKey: .recall)
            try c.encode(precision, forKey: .precision)
        }
    }

    /// The predictor's name.
    public var predictor: String
    /// Layers ahead.
    public var lookahead: Int
    /// Experts predicted per token (k × widen).
    public var width: Int
    /// Test-split sequences evaluated.
    public var testSequences: Int
    /// Tokens evaluated.
    public var tokens = 0
    /// Per target layer (layers d …).
    public var layers: [LayerScore]

    /// Overall recall.
    public var recall: Double { ratio(\.hits, \.truths) }
    /// Overall precision.
    public var precision: Double { ratio(\.hits, \.predicted) }

    private func ratio(_ a: KeyPath<LayerScore, Int>, _ b: KeyPath<LayerScore, Int>) -> Double {
        let d = layers.reduce(0) { $0 + $1[keyPath: b] }
        return d == 0 ? 0 : Double(layers.reduce(0) { $0 + $1[keyPath: a] }) / Double(d)
    }

    enum CodingKeys: String, CodingKey {
        case predictor, lookahead, width, testSequences = "test_sequences", tokens, recall, precision, layers
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(predictor, forKey: .predictor)
        try c.encode(lookahead, forKey: .lookahead)
        try c.encode(width, forKey: .width)
        try c.encode(testSequences, forKey: .testSequences)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(recall, forKey: .recall)
        try c.encode(precision, forKey: .precision)
        try c.encode(layers, forKey: .layers)
    }

    /// Evaluates `predictor` (already trained) on the `test` sequences of `source`, one
    /// sequence at a time, prompts as prefill steps.
    public static func run<Source: RoutingSource>(_ predictor: ExpertPredictor, source: Source, test: [Bool],
                                                  lookahead: Int, width: Int) throws -> PredictorEvaluation {
        let shape = source.shape
        let predictorShape = PredictorShape(layers: shape.layers, experts: shape.experts, topK: shape.topK)
        var evaluation = PredictorEvaluation(
            predictor: predictor.name, lookahead: lookahead, width: width, testSequences: test.filter { $0 }.count,
            layers: (lookahead..<shape.layers).map { LayerScore(layer: $0) })
        let recorded = predictor is RecordedPredictor ? [lookahead] : []
        var former = BatchFormer(source: source, batchSize: 1, sequenceMask: test, predictionLookaheads: recorded)
        var step = Step()
        var predicted: [UInt16] = []
        while try former.next(into: &step) {
            for token in 0..<step.tokens {
                for layer in 0..<(shape.layers - lookahead) {
                    let truth = predictorShape.truth(step, token: token, layer: layer + lookahead)
                    guard !truth.isEmpty else { continue }  // the trace lacks that layer for the token
                    predicted.removeAll(keepingCapacity: true)
                    predictor.predict(step, token: token, layer: layer, lookahead: lookahead, width: width, into: &predicted)
                    let hits = truth.filter { predicted.contains($0) }.count
                    evaluation.layers[layer].hits += hits
                    evaluation.layers[layer].truths += truth.count
                    evaluation.layers[layer].predicted += predicted.count
                }
            }
            evaluation.tokens += step.tokens
            predictor.observe(step)
        }
        return evaluation
    }

    /// The accuracy table `moesim predict` prints.
    public var text: String {
        var lines = [
            "predictor  \(predictor), lookahead \(lookahead), \(width) experts predicted per token",
            "held out   \(testSequences) test sequences, \(tokens) tokens",
            "overall    recall@\(width) \(Format.fixed(recall, 3)), precision \(Format.fixed(precision, 3))",
            "",
            "target layer  recall  precision",
        ]
        for score in layers {
            lines.append("\(String(score.layer).leftPadded(12))  \(Format.fixed(score.recall, 3).leftPadded(6))  \(Format.fixed(score.precision, 3).leftPadded(9))")
        }
        return lines.joined(separator: "\n")
    }
}
