import OffloadSim
import Policies
import Testing
import TraceStore

@Suite("Expert-parallel replication")
struct ReplicationTests {
    /// Six prompts of 512 tokens, 2 layers × 4 experts, top-1, every token routed to expert 0
    /// (home: GPU 0 of 2): the most skewed load there is.
    static func skewedTrace() throws -> TraceReader {
        let prompt = Array(repeating: [UInt16(0), 0], count: 512)
        return try PolicyFixtures.trace(Array(repeating: prompt, count: 6), layers: 2, experts: 4, topK: 1, phase: .prefill)
    }

    static func run(replicate: Bool) throws -> PolicyCatalog.Result {
        var spec = PolicySpec.builtIn(named: replicate ? "expert-parallel-replication" : "expert-parallel")!
        spec.gpus = 2
        let model = ModelCost(name: "hand", layers: 2, experts: 4, expertBytes: [1_000_000, 1_000_000], expertParameters: 4_000_000,
                              attentionParameters: 0, attentionBytes: 500_000, kvBytesPerToken: 0, queryWidth: 0, hiddenSize: 1024)
        return try PolicyFixtures.run(spec, skewedTrace(), profile: HardwareProfile.preset(named: "h100-sxm")!, model: model)
    }

    @Test("replicating the overloaded expert raises the idle GPU's utilisation and lowers step time")
    func replicationBalancesLoad() throws {
        let fixed = try Self.run(replicate: false)
        let replicated = try Self.run(replicate: true)
        let (before, after) = (try #require(fixed.parallel), try #require(replicated.parallel))
        // Static: GPU 1 holds experts 1 and 3, which no token uses.
        #expect(before.utilisation[1] == 0)
        // Replicated: GPU 1 runs expert 0's kernels for part of its tokens, GPU 0 for less of them
        // (utilisation counts kernel time, not launch gaps, which dominate these small kernels).
        #expect(after.utilisation[1] > 0.5 * after.utilisation[0])
        #expect(after.utilisation[0] < before.utilisation[0])
        #expect(replicated.metrics.makespanNs < fixed.metrics.makespanNs)
        // One replica per layer, copied once and kept while the prediction stays the same.
        #expect(after.replicasMade == 2)
        #expect(after.replicationBytes == 2 * 1_000_000)
    }

    @Test("static placement copies nothing and sends every token to expert 0's GPU")
    func staticPlacement() throws {
        let fixed = try Self.run(replicate: false)
        let parallel = try #require(fixed.parallel)
        #expect(parallel.replicasMade == 0)
        // Tokens alternate between the GPUs: half of them (odd tokens) travel to GPU 0 and back.
        #expect(parallel.allToAllBytes == 6 * 2 * 2 * 256 * 1024 * 2)
    }
}
