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
}
