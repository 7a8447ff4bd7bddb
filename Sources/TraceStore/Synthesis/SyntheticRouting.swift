/// A source of synthetic routing: tokens in order, grouped in sequences.
protocol SyntheticRouting {
    /// Whether the tokens carry gate weights.
    var hasWeights: Bool { get }
    /// One line for the trace's notes: how the routing was made.
    var origin: String { get }
    /// Generates `count` tokens, handing each to `body` (sequence id, phase, layers × top-k ids
    /// layer-major, gate weights as fp16 bit patterns — the trace's storage — or empty, the
    /// layers the token lacks).
    func generate(tokens count: Int,
                  _ body: (_ sequence: Int, _ phase: Phase, _ ids: [UInt16], _ weightBits: [UInt16], _ absentLayers: [Int]) throws -> Void) rethrows
}

/// Per-sequence prompt and generated token counts to cycle through.
struct SequenceShape: Equatable {
    var prefill: Int
    var decode: Int
    var tokens: Int { prefill + decode }
}
