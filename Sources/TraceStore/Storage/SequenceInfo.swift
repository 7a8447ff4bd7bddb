/// One row of a trace's `sequences` table.
public struct SequenceInfo: Equatable, Sendable {
    /// Sequence id (0-based, in trace order).
    public var id: Int
    /// The source's label for it ("intent/12", "gsm8k/0", "turn 0").
    public var name: String
    /// Prompt tokens.
    public var prefillTokens: Int
    /// Generated tokens.
    public var decodeTokens: Int
    /// The chunk holding its first token.
    public var firstChunk: Int

    /// All tokens of the sequence.
    public var tokens: Int { prefillTokens + decodeTokens }
}
