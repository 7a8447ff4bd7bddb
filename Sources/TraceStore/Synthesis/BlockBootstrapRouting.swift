/// Synthetic routing resampled from a real trace by a block bootstrap (Künsch, "The
/// jackknife and the bootstrap for general stationary observations", Ann. Statist.
/// 1989): each synthetic sequence is stitched from runs of consecutive reference
/// tokens, jumping to a random reference token with probability `jump` per token (runs
/// of 1/jump tokens on average), and every layer's expert ids are relabelled by a
/// seeded permutation.
///
/// Whole tokens are copied, so per-layer popularity (up to relabelling), cross-layer
/// affinity and gate weights keep the reference's values; token-to-token reuse keeps
/// them except at jumps (about `jump` × the reference's excess reuse is lost). The
/// relabelling keeps every statistic `trace stats` reports while making the trace a
/// different one. Prompt and generated tokens are drawn from reference tokens of the
/// same phase where the reference has both.
///
/// Memory: the reference's first ``maxReferenceTokens`` tokens are held, relabelled and put
/// in stored order once as ``PreparedTokens`` (2 bytes per id, 2 per weight; read on several
/// threads, ``readReference(_:permutation:limit:)``), so that writing a resampled token is a copy.
struct BlockBootstrapRouting: SyntheticRouting {
    static let maxReferenceTokens = 200_000
    let shape: ModelShape
    let seed: UInt64
    let jump: Double
    let hasWeights: Bool
    let origin: String
    let shapes: [SequenceShape]
    /// The reference's tokens, each layer relabelled by the seeded permutation.
    private let tokens: PreparedTokens
    private let sequenceOf: [Int32]
    private let phaseOf: [Phase]
    private let startsByPhase: [[Int32]]

    init(reference: TraceReader, shape: ModelShape, seed: UInt64, jump: Double, shapes override: [SequenceShape]?) throws {
        self.shape = shape
        self.seed = seed
        self.jump = jump
        hasWeights = reference.metadata.hasWeights
        var random = SplitMix64(seed: seed, stream: "synth.relabel")
        let permutation = (0..<shape.layers).map { _ in Array(0..<UInt16(shape.experts)).shuffled(using: &random) }
        let read = try Self.readReference(reference, permutation: permutation, limit: Self.maxReferenceTokens)
        let (tokens, sequenceOf, phaseOf) = (read.tokens, read.sequenceOf, read.phaseOf)
        var shapes: [SequenceShape] = []
        var lastSequence: Int32 = -1
        for (sequence, phase) in zip(sequenceOf, phaseOf) {
            if sequence != lastSequence {
                shapes.append(SequenceShape(prefill: 0, decode: 0))
                lastSequence = sequence
            }
            if phase == .prefill { shapes[shapes.count - 1].prefill += 1 } else { shapes[shapes.count - 1].decode += 1 }
        }
        self.tokens = tokens
        self.sequenceOf = sequenceOf
        self.phaseOf = phaseOf
        self.shapes = override ?? shapes
        startsByPhase = Phase.allCases.map { phase in phaseOf.indices.filter { phaseOf[$0] == phase }.map(Int32.init) }
        let limit = Self.maxReferenceTokens
        let held = reference.metadata.tokens > limit ? "its first \(limit) of \(reference.metadata.tokens) tokens" : "all \(reference.metadata.tokens) tokens"
        let missing = Phase.allCases.filter { phase in !phaseOf.contains(phase) }
        let substitution = missing.count == 1 && (override ?? shapes).contains(where: { missing[0] == .decode ? $0.decode > 0 : $0.prefill > 0 })
            ? "; the reference has no \(missing[0]) tokens, so \(missing[0]) tokens are resampled from its \(missing[0] == .decode ? Phase.prefill : Phase.decode) tokens" : ""
        origin = "block bootstrap of the \(reference.metadata.provenanceLabel) trace \(reference.path) (\(held); runs of \(Int((1 / jump).rounded())) tokens on average; expert ids relabelled per layer by a seeded permutation); reference source: \(reference.metadata.source)\(substitution)"
    }

    func generate(tokens count: Int, _ body: (Int, Phase, [UInt16], [UInt16], [Int]) throws -> Void) rethrows {
        var tokenIDs = [UInt16](repeating: 0, count: shape.decisionsPerToken)
        var tokenWeights = [UInt16](repeating: 0, count: hasWeights ? shape.decisionsPerToken : 0)
        try resample(tokens: count) { sequence, prefill, sources in
            for (position, source) in sources.enumerated() {
                tokens.copy(source, ids: &tokenIDs, weightBits: &tokenWeights)
                try body(sequence, position < prefill ? .prefill : .decode, tokenIDs, tokenWeights, tokens.absentLayers(of: source))
            }
        }
    }

    /// Appends each resampled sequence to `writer` as copies of its prepared reference tokens.
    func write(tokens count: Int, to writer: TraceWriter) throws {
        try resample(tokens: count) { sequence, prefill, sources in
            writer.beginSequence(name: Self.sequenceName(sequence))
            try writer.appendTokens(phase: .prefill, prepared: tokens, at: sources[..<prefill])
            try writer.appendTokens(phase: .decode, prepared: tokens, at: sources[prefill...])
        }
    }

    /// Draws the synthetic sequences: `body` receives each one's number, how many of its first
    /// tokens are prefill, and the reference token each of its tokens copies.
    private func resample(tokens count: Int, _ body: (_ sequence: Int, _ prefill: Int, _ sources: [Int]) throws -> Void) rethrows {
        var sequencing = SplitMix64(seed: seed, stream: "synth.sequences")
        var stitching = SplitMix64(seed: seed, stream: "synth.stitching")
        var produced = 0
        var sequence = 0
        var sources: [Int] = []
        while produced < count {
            let template = shapes[sequencing.int(below: shapes.count)]
            let length = min(max(1, template.tokens), count - produced)
            var source = -1
            sources.removeAll(keepingCapacity: true)
            for position in 0..<length {
                let phase: Phase = position < template.prefill ? .prefill : .decode
                let next = source + 1
                let continues = source >= 0 && next < sequenceOf.count && sequenceOf[next] == sequenceOf[source]
                    && (phaseOf[next] == phase || startsByPhase[Int(phase.rawValue)].isEmpty)
                if continues && stitching.uniform() >= jump {
                    source = next
                } else {
                    let pool = startsByPhase[Int(phase.rawValue)].isEmpty ? startsByPhase[1 - Int(phase.rawValue)] : startsByPhase[Int(phase.rawValue)]
                    source = Int(pool[stitching.int(below: pool.count)])
                }
                sources.append(source)
            }
            try body(sequence, min(template.prefill, length), sources)
            produced += length
            sequence += 1
        }
    }
}
