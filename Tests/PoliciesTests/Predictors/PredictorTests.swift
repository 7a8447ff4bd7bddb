import OffloadSim
import Policies
import Testing
import TraceStore

@Suite("Predictors")
struct PredictorTests {
    /// Ten sequences of 6 tokens, 2 layers × 8 experts, top-2. Training sequences use experts
    /// 0-3 only and test sequences 4-7 only; layer 1's experts are layer 0's plus one.
    static func disjointTrace(split: SequenceSplit) throws -> TraceReader {
        // Layer 0 = {a, a+1}, layer 1 = {a+1, a+2}, with a in offset…offset+1.
        let sequences = (0..<10).map { s -> [[UInt16]] in
            let offset: UInt16 = split.test[s] ? 4 : 0
            return (0..<6).map { t in
                let a = offset + UInt16((s + t) % 2)
                return [a, a + 1, a + 1, a + 2]
            }
        }
        return try PolicyFixtures.trace(sequences, layers: 2, experts: 8, topK: 2)
    }

    @Test("learned predictors never see a test-split sequence", arguments: ["popularity", "cross-layer", "activation-matrix"])
    func noLeakage(name: String) throws {
        let settings = PredictorCatalog.Settings(seed: 5)
        let split = SequenceSplit(sequences: 10, testFraction: settings.testFraction, seed: settings.seed)
        let reader = try Self.disjointTrace(split: split)
        let prepared = try PredictorCatalog.prepare(name, source: reader, settings: settings)
        #expect(prepared.split == split)
        let test = Set((0..<10).filter { split.test[$0] })
        #expect(!prepared.trainedOn.isEmpty)
        #expect(prepared.trainedOn.isDisjoint(with: test))
        // Test sequences route only to experts 4-7, which no training sequence used: a predictor
        // that had seen them would predict some; one that learned only the training split cannot.
        let evaluation = try PredictorEvaluation.run(prepared.predictor, source: reader, test: split.test, lookahead: 1, width: 2)
        #expect(evaluation.tokens == 6 * test.count)
        #expect(evaluation.recall == 0)
    }

    @Test("on training-like sequences cross-layer co-activation predicts the next layer exactly")
    func crossLayerLearnsTheMapping() throws {
        let sequences = (0..<12).map { s in (0..<8).map { t -> [UInt16] in
            let a = UInt16((s * 3 + t) % 6)
            return [a, a + 1, a + 1, a + 2]
        } }
        let reader = try PolicyFixtures.trace(sequences, layers: 2, experts: 8, topK: 2)
        let prepared = try PredictorCatalog.prepare("cross-layer", source: reader, settings: .init(seed: 2))
        let evaluation = try PredictorEvaluation.run(prepared.predictor, source: reader, test: prepared.split!.test, lookahead: 1, width: 2)
        #expect(evaluation.recall == 1)
        #expect(evaluation.precision == 1)
    }

    @Test("previous-token recall is the share of experts a token repeats from its predecessor")
    func previousToken() throws {
        // One sequence; layer 0 always {5, 6}; layer 1: {0,1}, {0,2}, {0,2}, {3,4}.
        let layerOne: [[UInt16]] = [[0, 1], [0, 2], [0, 2], [3, 4]]
        let tokens = layerOne.map { [5, 6] + $0 }
        let reader = try PolicyFixtures.trace([tokens], layers: 2, experts: 8, topK: 2)
        let prepared = try PredictorCatalog.prepare("previous-token", source: reader, settings: .init())
        let evaluation = try PredictorEvaluation.run(prepared.predictor, source: reader, test: [true], lookahead: 1, width: 2)
        // Token 0 has no predecessor (0 of 2); token 1 repeats expert 0 (1 of 2); token 2 both (2 of 2); token 3 none.
        #expect(evaluation.layers[0].hits == 3)
        #expect(evaluation.layers[0].truths == 8)
        #expect(evaluation.layers[0].predicted == 6)
    }

    @Test("the oracle has recall and precision 1")
    func oracle() throws {
        let reader = try PolicyFixtures.trace([[[0, 1, 2, 3], [1, 2, 3, 4]]], layers: 2, experts: 8, topK: 2)
        let prepared = try PredictorCatalog.prepare("oracle", source: reader, settings: .init())
        let evaluation = try PredictorEvaluation.run(prepared.predictor, source: reader, test: [true], lookahead: 1, width: 2)
        #expect(evaluation.recall == 1 && evaluation.precision == 1)
    }

    @Test("the parametric predictor's recall is r within sampling error", arguments: [0.5, 0.9])
    func parametricRecall(r: Double) throws {
        guard let esft = PolicyFixtures.esft else { return }
        let reader = try TraceReader(path: esft)
        let prepared = try PredictorCatalog.prepare("parametric", source: reader, settings: .init(recall: r, seed: 9))
        let evaluation = try PredictorEvaluation.run(prepared.predictor, source: reader, test: Array(repeating: true, count: reader.sequences.count),
                                                     lookahead: 1, width: 6)
        // 5.0 M Bernoulli(r) draws: three standard deviations are below 0.001.
        #expect(abs(evaluation.recall - r) < 0.002)
        #expect(evaluation.layers.allSatisfy { $0.predicted == $0.truths })
    }
}
