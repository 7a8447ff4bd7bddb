import OffloadSim
import Policies
import Testing
import TraceStore

@Suite("Predictive replication (one GPU)")
struct PredictiveReplicationTests {
    /// Two 8-token prompts, 2 layers × 4 experts, top-1: at each layer 6 tokens go to expert 0,
    /// one to expert 1 and one to expert 2. The layer's mean over active experts is 8 / 3, so
    /// with threshold 1 expert 0 (6 > 2 × 8/3) gets one replica (3 per copy is under the bar).
    static func trace() throws -> TraceReader {
        let tokens: [[UInt16]] = Array(repeating: [0, 0], count: 6) + [[1, 1], [2, 2]]
        return try PolicyFixtures.trace([tokens, tokens], layers: 2, experts: 4, topK: 1, phase: .prefill)
    }

    static func run(memoryMiB: Double = 64, engine: ServingEngine = .replicaStreams) throws -> PolicyCatalog.Result {
        var spec = PolicySpec.builtIn(named: "predictive-replication")!
        spec.predictor = "oracle"
        spec.replicaMemoryMiB = memoryMiB
        let model = SimulationFixtures.model
        return try PolicyFixtures.run(spec, trace(), profile: HardwareProfile.preset(named: "a100-80gb-pcie")!, model: model, engine: engine)
    }

    @Test("the overloaded expert of each layer gets one replica, copied once and kept for the next batch")
    func replicatesTheHotExpert() throws {
        let result = try Self.run()
        #expect(result.notes.last == "2 replica copies over 2 batches (cap 64 MiB, threshold 1.00, at most 4 copies per expert)")
        // Every predicted expert once (3 per layer) and the two replicas cross the bus.
        #expect(result.metrics.prefetchBytes == (2 * 3 + 2) * 1_000_000)
        #expect(result.metrics.routingFidelity == 1)
    }

    @Test("the memory cap bounds the replicas of all layers together")
    func memoryCapBoundsReplicas() throws {
        // 1 MiB holds one 1 MB replica.
        #expect(try Self.run(memoryMiB: 1).notes.last?.hasPrefix("1 replica copies over 2 batches") == true)
        #expect(try Self.run(memoryMiB: 0).notes.last?.hasPrefix("0 replica copies") == true)
    }

    @Test("an engine that runs experts on one stream gets no replicas, and the run says why")
    func singleStreamEnginesGetNoReplicas() throws {
        let result = try Self.run(engine: .moesim)
        #expect(result.notes.last?.hasPrefix("no replicas: the moesim engine runs a layer's experts on one stream") == true)
        #expect(result.metrics.prefetchBytes == 2 * 3 * 1_000_000)
    }

    @Test("the batch's predicted experts are executed: a recall below 1 lowers routing fidelity, not the bytes fetched on demand")
    func executesPredictions() throws {
        var spec = PolicySpec.builtIn(named: "predictive-replication")!
        spec.recall = 0.5
        let result = try PolicyFixtures.run(spec, Self.trace(), profile: HardwareProfile.preset(named: "a100-80gb-pcie")!,
                                            model: SimulationFixtures.model, engine: .replicaStreams)
        #expect(result.metrics.routingFidelity < 1)
        #expect(result.metrics.demandBytes == 0)
    }

    @Test("a predictor that needs the batch's own routing is refused for a whole-batch prediction")
    func refusesLayerPredictors() {
        let text = """
            name = "p"
            mechanism = "predictive-replication"
            [predictor]
            name = "cross-layer"
            """
        #expect {
            _ = try PolicySpec(toml: text, file: "p.toml")
        } throws: { error in
            String(describing: error).contains("predictive-replication predicts the batch's experts before any of its layers has run")
        }
    }
}

/// A 2-layer, 4-expert model of 1 MB experts with 1 M parameters each.
private enum SimulationFixtures {
    static let model = ModelCost(name: "hand", layers: 2, experts: 4, expertBytes: [1_000_000, 1_000_000], expertParameters: 1_000_000,
                                 attentionParameters: 0, attentionBytes: 500_000, kvBytesPerToken: 0, queryWidth: 0, hiddenSize: 1024)
}
