import OffloadSim
import Policies
import TestSupport
import Testing
import TraceStore

@Suite("Recorded predictions")
struct RecordedPredictorTests {
    /// One sequence of 8 tokens, 2 layers × 8 experts, top-2, with predictions recorded one
    /// layer ahead (width 2): right for even tokens, two wrong experts for odd ones.
    static func trace() throws -> TraceReader {
        let path = Repository.temporaryFolder() + "/recorded.sqlite"
        let shape = ModelShape(name: "hand", layers: 2, experts: 8, topK: 2, expertBytes: [1_000_000, 1_000_000])
        var meta = TraceMetadata(shape: shape, hasWeights: false, synthetic: true, source: "recorded-prediction test", importer: "test")
        meta.predictionLookaheads = [1]
        meta.predictionWidth = 2
        let writer = try TraceWriter(path: path, metadata: meta, options: .init(chunkTokens: 3, compressionLevel: 1))
        writer.beginSequence(name: "s0")
        for token in 0..<8 {
            let a = UInt16(token % 4)
            let layerOne: [UInt16] = [a + 2, a + 3]
            let predicted: [UInt16] = token % 2 == 0 ? layerOne : [(a + 4) % 8, (a + 5) % 8]
            try writer.appendToken(phase: .decode, ids: [a, a + 1] + layerOne, predictions: [[0, 0] + predicted])
        }
        _ = try writer.finish()
        return try TraceReader(path: path)
    }

    @Test("the recorded predictor replays the trace's predictions: recall is the share recorded right")
    func replaysRecordedSets() throws {
        let reader = try Self.trace()
        let prepared = try PredictorCatalog.prepare("recorded", source: reader, settings: .init(lookaheads: [1]))
        let evaluation = try PredictorEvaluation.run(prepared.predictor, source: reader, test: [true], lookahead: 1, width: 2)
        #expect(evaluation.tokens == 8)
        #expect(evaluation.recall == 0.5)
        #expect(evaluation.precision == 0.5)
    }

    @Test("asking for a lookahead the trace was not recorded with is a clear error")
    func missingLookahead() throws {
        let reader = try Self.trace()
        #expect(throws: TraceStoreError.self) {
            _ = try PredictorCatalog.prepare("recorded", source: reader, settings: .init(lookaheads: [2]))
        }
    }

    @Test("a prefetch policy can run on recorded predictions")
    func prefetchOnRecorded() throws {
        var spec = PolicySpec.builtIn(named: "cross-layer-gate")!
        spec.predictor = "recorded"
        var model = MechanismTests.model
        model.experts = 8
        let result = try PolicyFixtures.run(spec, try Self.trace(), profile: MechanismTests.profile, model: model)
        #expect(result.predictorName == "recorded")
        #expect(result.metrics.prefetchBytes > 0)
        #expect(result.metrics.decodeSteps == 8)
    }
}
