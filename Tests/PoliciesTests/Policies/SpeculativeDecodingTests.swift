import OffloadSim
import Policies
import Testing
import TraceStore

/// 2 layers × 4 experts, top-2, 1 MB experts; one prompt token and four generated tokens,
/// all routed to {0, 1} at layer 0 and {2, 3} at layer 1. The hand profile copies an expert
/// in 45,000 ns and computes one in 1,000 ns; attention takes 500 ns.
@Suite("Speculative decoding and SP-MoE")
struct SpeculativeDecodingTests {
    static func run(prefetch: Bool, acceptance: Double) throws -> PolicyCatalog.Result {
        let ids: [UInt16] = [0, 1, 2, 3]
        let reader = try PolicyFixtures.trace([Array(repeating: ids, count: 5)], layers: 2, experts: 4, topK: 2, prompt: 1)
        var spec = PolicySpec.builtIn(named: prefetch ? "sp-moe" : "speculative-decoding")!
        spec.predictor = "oracle"
        spec.draftTokens = 1
        spec.draftNanosecondsPerToken = 1_000_000
        spec.acceptance = acceptance
        return try PolicyFixtures.run(spec, reader, profile: MechanismTests.profile, model: MechanismTests.model)
    }

    @Test("each step drafts, then verifies draft + 1 tokens at once; accepted drafts share the step's time")
    func draftThenVerify() throws {
        let result = try Self.run(prefetch: false, acceptance: 1)
        // Four generated tokens in two verification steps of two tokens; the first token comes from the prompt step.
        #expect(result.metrics.decodeSteps == 2)
        #expect(result.metrics.outputTokens == 1 + 4)
        // A step: 1 ms of drafting, then both layers on demand (500 + 2 × 45,000 + 1,000 each): 2 tokens per step.
        #expect(result.metrics.tpot.mean == Double((1_000_000 + 2 * 91_500) / 2))
    }

    @Test("with every draft rejected a step yields one token")
    func rejectedDrafts() throws {
        let result = try Self.run(prefetch: false, acceptance: 0)
        #expect(result.metrics.outputTokens == 1 + 2)
        #expect(result.metrics.tpot.mean == Double(1_000_000 + 2 * 91_500))
    }

    @Test("SP-MoE prefetches the verification's experts while drafting, so verification hits")
    func prefetchDuringDraft() throws {
        let result = try Self.run(prefetch: true, acceptance: 1)
        // All four experts (4 × 45,000 ns) arrive within the 1 ms draft: each layer is 500 + 2 × 1,000.
        #expect(result.metrics.tpot.mean == Double((1_000_000 + 2 * 2_500) / 2))
        #expect(result.metrics.decodeHitRate == 1)
    }

    /// The hand model with 100 MB of attention weights: each layer's attention takes 100,000 ns.
    static let slowAttention = ModelCost(name: "hand", layers: 2, experts: 4, expertBytes: [1_000_000, 1_000_000], expertParameters: 0,
                                         attentionParameters: 0, attentionBytes: 100_000_000, kvBytesPerToken: 0, queryWidth: 0)

    /// Steps that alternate between experts {0, 1} and {2, 3} at both layers, one draft token
    /// of `draftNs`, every draft accepted, oracle predictions and a cache of four experts, so
    /// that each step's four experts are absent when it starts.
    static func alternating(_ name: String, draftNs: Int, model: ModelCost) throws -> SimulationMetrics {
        let low: [UInt16] = [0, 1, 0, 1], high: [UInt16] = [2, 3, 2, 3]
        let reader = try PolicyFixtures.trace([[high, low, low, high, high]], layers: 2, experts: 4, topK: 2, prompt: 1)
        var spec = PolicySpec.builtIn(named: name)!
        spec.predictor = "oracle"
        spec.draftTokens = 1
        spec.draftNanosecondsPerToken = draftNs
        spec.acceptance = 1
        return try PolicyFixtures.run(spec, reader, profile: MechanismTests.profile, model: model, cacheBytes: 4_000_000).metrics
    }

    @Test("SP-MoE's cutoff counts the verification's compute before a layer, not only the drafting time")
    func cutoffFromVerificationCompute() throws {
        // Drafting (100,000 ns) fits two of the four 45,000 ns copies; the latency model lets
        // layer 0's copies finish by 200,000 ns (draft + attention) and layer 1's by 302,000 ns,
        // so all four are prefetched and a two-token step takes 100,000 + 2 × (100,000 + 2 × 1,000) ns.
        let spmoe = try Self.alternating("sp-moe", draftNs: 100_000, model: Self.slowAttention)
        #expect(spmoe.tpot.mean == Double(2 * 304_000) / 4)
        // Without prefetch, each layer waits for two demand copies after its attention: 482,000 ns a step.
        let plain = try Self.alternating("speculative-decoding", draftNs: 100_000, model: Self.slowAttention)
        #expect(plain.tpot.mean == Double(2 * 482_000) / 4)
    }

    @Test("SP-MoE prefetches nothing when no predicted copy can arrive before its layer needs it")
    func noPrefetchPastTheCutoff() throws {
        // A 45,000 ns copy cannot finish within 10,000 ns of drafting and 500 ns of attention:
        // the cutoff is layer 0, and SP-MoE runs exactly as plain speculative decoding.
        let spmoe = try Self.alternating("sp-moe", draftNs: 10_000, model: MechanismTests.model)
        let plain = try Self.alternating("speculative-decoding", draftNs: 10_000, model: MechanismTests.model)
        #expect(spmoe.prefetchBytes == 0)
        #expect(spmoe.tpot.mean == plain.tpot.mean)
        #expect(spmoe.decodeHitRate == 0)
    }
}
