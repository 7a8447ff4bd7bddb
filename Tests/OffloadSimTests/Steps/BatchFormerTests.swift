import OffloadSim
import Testing
import TraceStore

@Suite("Batch former")
struct BatchFormerTests {
    /// Sequences of 2+2, 1+1 and 1+3 prompt+generated tokens; 2 layers × 4 experts, top-2.
    static func sequences() -> [[SimFixtures.Token]] {
        func tokens(_ prefill: Int, _ decode: Int, offset: Int) -> [SimFixtures.Token] {
            (0..<(prefill + decode)).map { t in
                let a = UInt16((t + offset) % 4)
                return (t < prefill ? .prefill : .decode, [a, (a + 1) % 4, a, (a + 2) % 4])
            }
        }
        return [tokens(2, 2, offset: 0), tokens(1, 1, offset: 1), tokens(1, 3, offset: 2)]
    }

    static func steps(batch: Int, chunkTokens: Int, prefillAsDecode: Bool = false, context: Int? = nil, prefillChunk: Int? = nil,
                      content: StepContent = .tokens) throws -> [Step] {
        let reader = try SimFixtures.trace(sequences(), layers: 2, experts: 4, topK: 2, chunkTokens: chunkTokens)
        var former = BatchFormer(source: reader, batchSize: batch, prefillAsDecode: prefillAsDecode, contextTokens: context,
                                 prefillChunkTokens: prefillChunk, content: content)
        var step = Step()
        var all: [Step] = []
        while try former.next(into: &step) { all.append(step) }
        return all
    }

    @Test("continuous batching of two slots: prompts first, a freed slot admits the next sequence")
    func continuousBatching() throws {
        let steps = try Self.steps(batch: 2, chunkTokens: 4096)
        #expect(steps.map(\.phase) == [.prefill, .decode, .prefill, .decode, .decode, .decode])
        #expect(steps.map(\.tokens) == [3, 2, 1, 2, 1, 1])
        #expect(steps.map(\.admitted) == [[0, 1], [], [2], [], [], []])
        #expect(steps.map(\.finished) == [[], [1], [], [0], [], [2]])
        #expect(steps.map(\.firstTokens) == [[0, 1], [], [2], [], [], []])
    }

    /// One prompt token a step: s0's two prompt tokens take two steps (its first token comes
    /// with the second), s1's prompt waits for the third; decoding is unchanged.
    @Test("a prefill chunk limit splits prompts over steps, each sequence's first token with its last chunk")
    func prefillChunks() throws {
        let steps = try Self.steps(batch: 2, chunkTokens: 4096, prefillChunk: 1)
        #expect(steps.map(\.phase) == [.prefill, .prefill, .prefill, .decode, .prefill, .decode, .decode, .decode])
        #expect(steps.map(\.tokens) == [1, 1, 1, 2, 1, 2, 1, 1])
        #expect(steps.map(\.firstTokens) == [[], [0], [1], [], [2], [], [], []])
        // s0's second chunk attends to its first: KV 2 tokens, pairs 1 + 1.
        #expect(steps[1].kvTokens == 2 && steps[1].scorePairs == 2)
        // A limit above every prompt changes nothing.
        let whole = try Self.steps(batch: 2, chunkTokens: 4096)
        let wide = try Self.steps(batch: 2, chunkTokens: 4096, prefillChunk: 3)
        #expect(wide.map(\.tokens) == whole.map(\.tokens) && wide.map(\.experts) == whole.map(\.experts))
        #expect(wide.map(\.firstTokens) == whole.map(\.firstTokens))
    }

    @Test("small chunks that split sequences give the same steps")
    func chunkBoundaries() throws {
        let whole = try Self.steps(batch: 2, chunkTokens: 4096)
        let split = try Self.steps(batch: 2, chunkTokens: 3)
        #expect(whole.map(\.experts) == split.map(\.experts))
        #expect(whole.map(\.expertTokens) == split.map(\.expertTokens))
        #expect(whole.map(\.tokenExperts) == split.map(\.tokenExperts))
    }

    @Test("a step lists each layer's distinct experts in ascending order with their token counts")
    func perLayerExperts() throws {
        let first = try #require(try Self.steps(batch: 2, chunkTokens: 4096).first)
        // Tokens: s0 t0 → layer 0 {0,1}, layer 1 {0,2}; s0 t1 → {1,2}, {1,3}; s1 t0 → {1,2}, {1,3}.
        #expect(Array(first.experts[first.range(layer: 0)]) == [0, 1, 2])
        #expect(Array(first.expertTokens[first.range(layer: 0)]) == [1, 3, 2])
        #expect(Array(first.experts[first.range(layer: 1)]) == [0, 1, 2, 3])
        #expect(Array(first.expertTokens[first.range(layer: 1)]) == [1, 2, 1, 2])
        #expect(first.decisions == 3 * 2 * 2)
    }

    /// The fixture has no weights, so the gate mass is NaN throughout; the rank-order test's
    /// trace below checks the mass itself.
    @Test("steps without per-token routing hold the same experts, counts and decisions, and no tokens")
    func stepContent() throws {
        let full = try Self.steps(batch: 2, chunkTokens: 3)
        for content in [StepContent.gateMass, .lookups] {
            let lean = try Self.steps(batch: 2, chunkTokens: 3, content: content)
            #expect(lean.map(\.experts) == full.map(\.experts))
            #expect(lean.map(\.expertTokens) == full.map(\.expertTokens))
            #expect(lean.map(\.decisions) == full.map(\.decisions))
            #expect(lean.map(\.layerRoutedMass) == full.map(\.layerRoutedMass))
            #expect(lean.allSatisfy { $0.tokenExperts.isEmpty && $0.tokenWeights.isEmpty && $0.tokenSequences.isEmpty })
        }
        #expect(full.map(\.decisions) == [12, 8, 4, 8, 4, 4])
        // Without weights a layer's routed mass is its decisions: the step's tokens × top-k.
        #expect(full.map(\.layerRoutedMass) == full.map { step in [Double(step.tokens * 2), Double(step.tokens * 2)] })
    }

    @Test("attention work counts context tokens and query-key pairs")
    func attentionWork() throws {
        let steps = try Self.steps(batch: 1, chunkTokens: 4096)
        // s0: prefill of 2 (pairs 1 + 2), then decodes at context 3 and 4.
        #expect(steps.prefix(3).map(\.scorePairs) == [3, 3, 4])
        #expect(steps.prefix(3).map(\.kvTokens) == [2, 3, 4])
    }

    @Test("with a context, decode attention reads the context plus the tokens generated since; prefill is unchanged")
    func contextTokens() throws {
        let steps = try Self.steps(batch: 1, chunkTokens: 4096, context: 1_000)
        // s0: prefill of 2 as before, then decodes at context 1,000 + 1 and 1,000 + 2.
        #expect(steps.prefix(3).map(\.kvTokens) == [2, 1_001, 1_002])
        #expect(steps.prefix(3).map(\.scorePairs) == [3, 1_001, 1_002])
        // s1 (1 + 1): its one decode token reads 1,001 tokens whatever its prompt.
        #expect(steps[4].phase == .decode && steps[4].kvTokens == 1_001)
    }

    @Test("replaying prompt tokens as decode gives one step per token")
    func prefillAsDecode() throws {
        let steps = try Self.steps(batch: 1, chunkTokens: 4096, prefillAsDecode: true)
        #expect(steps.count == 4 + 2 + 4)
        #expect(steps.allSatisfy { $0.phase == .decode && $0.tokens == 1 })
    }

    /// One layer, top-3. Token 0 routes to 5, 1, 3 with weights 0.5, 0.2, 0.3; token 1 (same
    /// step at batch 2) to 3, 7, 1 with 0.3, 0.6, 0.1. By id the step looks up 1, 3, 5, 7; by
    /// rank, token 0's experts by weight (5, 3, 1), then token 1's new one (7).
    @Test("rank lookup order lists a layer's experts as the tokens rank them, first appearance first")
    func rankOrder() throws {
        let reader = try SimFixtures.trace(
            [[(.decode, [5, 1, 3])], [(.decode, [3, 7, 1])]], layers: 1, experts: 8, topK: 3,
            weights: [[[0.5, 0.2, 0.3]], [[0.3, 0.6, 0.1]]])
        func experts(_ order: LookupOrder) throws -> [UInt16] {
            var former = BatchFormer(source: reader, batchSize: 2, lookupOrder: order)
            var step = Step()
            _ = try former.next(into: &step)
            return Array(step.experts[step.range(layer: 0)])
        }
        #expect(try experts(.id) == [1, 3, 5, 7])
        #expect(try experts(.rank) == [5, 3, 1, 7])
    }

    /// One sequence at a time, one token per step: the former writes such steps without its
    /// per-expert counters unless it keeps the tokens. With weights (one a negative zero, which
    /// the counters turn positive), across chunk boundaries, both ways give the same experts,
    /// counts, gate mass bit for bit, routed mass and layer bounds.
    @Test("one-token steps hold what steps formed through the counters hold", arguments: [StepContent.gateMass, .lookups])
    func singleTokenSteps(content: StepContent) throws {
        var random = SplitMix64(seed: 3, stream: "single-token-steps")
        var sequences: [[SimFixtures.Token]] = []
        var weights: [[[Float]]] = []
        for _ in 0..<3 {
            var tokens: [SimFixtures.Token] = []
            var tokenWeights: [[Float]] = []
            for t in 0..<(3 + random.int(below: 6)) {
                var ids: [UInt16] = []
                for _ in 0..<2 {
                    var pool = Array(UInt16(0)..<10)
                    ids += (0..<3).map { _ in pool.remove(at: random.int(below: pool.count)) }
                }
                tokens.append((t < 2 ? .prefill : .decode, ids))
                tokenWeights.append((0..<6).map { $0 == 4 && t == 1 ? -0.0 : Float(random.int(below: 1000)) / 1000 })
            }
            sequences.append(tokens)
            weights.append(tokenWeights)
        }
        let reader = try SimFixtures.trace(sequences, layers: 2, experts: 10, topK: 3, chunkTokens: 4, weights: weights)
        func steps(_ content: StepContent) throws -> [Step] {
            var former = BatchFormer(source: reader, batchSize: 1, prefillAsDecode: true, content: content)
            var (step, all) = (Step(), [Step]())
            while try former.next(into: &step) { all.append(step) }
            return all
        }
        let (counted, single) = (try steps(.tokens), try steps(content))
        #expect(single.count == sequences.reduce(0) { $0 + $1.count })
        #expect(single.map(\.layerStart) == counted.map(\.layerStart))
        #expect(single.map(\.experts) == counted.map(\.experts))
        #expect(single.map(\.expertTokens) == counted.map(\.expertTokens))
        #expect(single.map(\.decisions) == counted.map(\.decisions))
        let mass = { (steps: [Step]) in steps.map { $0.expertGateMass.map(\.bitPattern) } }
        let routed = { (steps: [Step]) in steps.map { $0.layerRoutedMass.map(\.bitPattern) } }
        if content == .gateMass {
            #expect(mass(single) == mass(counted))
            #expect(routed(single) == routed(counted))
        } else {
            #expect(single.allSatisfy { $0.expertGateMass.allSatisfy(\.isNaN) })
            #expect(single.map(\.layerRoutedMass) == single.map { _ in [3.0, 3.0] })
        }
    }

    /// The trace of ``rankOrder()``: experts 1, 3, 5, 7 receive 0.2 + 0.1, 0.3 + 0.3, 0.5 and 0.6
    /// (weights stored as fp16).
    @Test("steps carrying gate mass but no tokens sum each expert's gate weights as full steps do",
          arguments: [StepContent.gateMass, .tokens])
    func gateMassWithoutTokens(content: StepContent) throws {
        let reader = try SimFixtures.trace(
            [[(.decode, [5, 1, 3])], [(.decode, [3, 7, 1])]], layers: 1, experts: 8, topK: 3,
            weights: [[[0.5, 0.2, 0.3]], [[0.3, 0.6, 0.1]]])
        var former = BatchFormer(source: reader, batchSize: 2, content: content)
        var step = Step()
        _ = try former.next(into: &step)
        let half = { (x: Float) in Float(Float16(x)) }
        #expect(step.expertGateMass == [half(0.2) + half(0.1), half(0.3) + half(0.3), half(0.5), half(0.6)])
        #expect(step.layerRoutedMass == [0.0 + Double(half(0.2) + half(0.1)) + Double(half(0.3) + half(0.3)) + Double(half(0.5)) + Double(half(0.6))])
        #expect(step.tokenExperts.isEmpty == (content == .gateMass))
    }
}
