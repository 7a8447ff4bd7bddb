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
    /// Writes `count` generated tokens to `writer`, one sequence each as ``sequenceName(_:)``
    /// names it; the same file as appending what ``generate(tokens:_:)`` hands over.
    func write(tokens count: Int, to writer: TraceWriter) throws
}

extension SyntheticRouting {
    /// The name of synthetic sequence `sequence` in the trace.
    static func sequenceName(_ sequence: Int) -> String { "synthetic/\(sequence)" }

    /// Appends each token ``generate(tokens:_:)`` hands over.
    func write(tokens count: Int, to writer: TraceWriter) throws {
        var open = -1
        try generate(tokens: count) { sequence, phase, ids, weightBits, absentLayers in
            if sequence != open {
                writer.beginSequence(name: Self.sequenceName(sequence))
                open = sequence
            }
            try writer.appendToken(phase: phase, ids: ids, weightBits: hasWeights ? weightBits : nil, absentLayers: absentLayers)
        }
    }
}

/// Per-sequence prompt and generated token counts to cycle through.
struct SequenceShape: Equatable {
    var prefill: Int
    var decode: Int
    var tokens: Int { prefill + decode }
}
