import Foundation
import Testing
import TraceStore

@Suite("Trace statistics")
struct TraceStatisticsTests {
    /// 2 layers × 4 experts, top-1. Sequence a routes (layer 0, layer 1) = (0,2) (0,2) (1,3) (0,2); b routes (1,3).
    func handTrace() throws -> TraceStatistics {
        let path = Fixtures.temporaryFolder() + "/hand.sqlite"
        let shape = ModelShape(name: "hand", layers: 2, experts: 4, topK: 1, expertBytes: [100, 300])
        let writer = try TraceWriter(path: path, metadata: TraceMetadata(shape: shape, hasWeights: false, synthetic: false, source: "t", importer: "t"))
        writer.beginSequence(name: "a")
        for (t, ids) in [[0, 2], [0, 2], [1, 3], [0, 2]].enumerated() {
            try writer.appendToken(phase: t < 2 ? .prefill : .decode, ids: ids.map(UInt16.init))
        }
        writer.beginSequence(name: "b")
        try writer.appendToken(phase: .decode, ids: [1, 3])
        try writer.finish()
        return try TraceStatistics(trace: TraceReader(path: path))
    }

    @Test("popularity entropy, skew and distinct experts equal the hand-computed values")
    func popularity() throws {
        let layer = try handTrace().layers[0]
        let entropy = -(0.6 * log2(0.6) + 0.4 * log2(0.4))
        #expect(abs(layer.entropyBits - entropy) < 1e-12)
        #expect(abs(layer.normalizedEntropy - entropy / 2) < 1e-12)
        #expect(layer.distinctExperts == 2)
        #expect(abs(layer.topDecileShare - 0.6) < 1e-12)
    }

    @Test("reuse counts only predecessors within the same sequence")
    func reuse() throws {
        let stats = try handTrace()
        // Pairs a0→a1 (reused), a1→a2, a2→a3; b0 has no predecessor.
        #expect(abs(stats.layers[0].reuse - 1.0 / 3) < 1e-12)
        #expect(abs(stats.layers[1].reuse - 1.0 / 3) < 1e-12)
    }

    @Test("cross-layer affinity is perfect where layer 0 determines layer 1, against 0.6 for popularity")
    func affinity() throws {
        let stats = try handTrace()
        #expect(stats.layers[0].affinityRecall == 1.0)
        #expect(stats.layers[0].popularityRecall == 0.6)
        #expect(stats.layers[1].affinityRecall == nil)
    }

    @Test("working sets: one token's cycle is exact; longer windows close at sequence ends")
    func workingSet() throws {
        let stats = try handTrace()
        #expect(stats.workingSet[0] == WorkingSet(tokens: 1, experts: 2, bytes: 400))
        // Windows of 8: a's four tokens touch 4 (layer, expert) pairs, b's one token 2: mean 3, at 200 B mean.
        #expect(stats.workingSet[1] == WorkingSet(tokens: 8, experts: 3, bytes: 600))
        #expect(abs(stats.decodeShare - 0.6) < 1e-12)
    }

    @Test("the JSON has the documented keys, with null where a figure does not apply")
    func jsonKeys() throws {
        let encoder = JSONEncoder()
        let object = try JSONSerialization.jsonObject(with: encoder.encode(try handTrace())) as! [String: Any]
        for key in ["trace", "provenance", "synthetic", "model", "tokens", "sequences", "decode_share", "layers", "mean_reuse", "mean_affinity_recall", "working_set"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        let last = (object["layers"] as! [[String: Any]])[1]
        #expect(last["affinity_recall"] is NSNull)
    }
}
