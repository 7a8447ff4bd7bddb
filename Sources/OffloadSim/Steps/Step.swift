import TraceStore

/// One forward pass of the batch through every MoE layer (DESIGN.md §3): either the
/// prompts of newly admitted sequences (prefill) or one generated token of each running
/// sequence (decode).
///
/// Per layer it holds the distinct experts the step's tokens were routed to, in
/// ascending id order, with how many tokens each got and their summed gate weight; and
/// per token the raw routing, for policies that look at tokens. Buffers are reused from
/// step to step.
public struct Step: Sendable {
    /// 0-based step number.
    public internal(set) var index = 0
    /// Prefill or decode.
    public internal(set) var phase = Phase.decode
    /// Tokens in the step.
    public internal(set) var tokens = 0
    /// KV-cache tokens the step's attention reads (context lengths summed over its sequences).
    public internal(set) var kvTokens = 0
    /// Query-key pairs the step's attention computes.
    public internal(set) var scorePairs = 0
    /// Sequences in the step, with the tokens each contributes.
    public internal(set) var sequences: [(id: Int, tokens: Int)] = []
    /// Sequences admitted to the batch at this step.
    public internal(set) var admitted: [Int] = []
    /// Sequences whose first output token this step produces.
    public internal(set) var firstTokens: [Int] = []
    /// Sequences that finish with this step.
    public internal(set) var finished: [Int] = []
    /// Start of each layer's run in the per-expert arrays (count layers + 1).
    public internal(set) var layerStart: [Int] = []
    /// Distinct experts per layer, ascending within a layer.
    public internal(set) var experts: [UInt16] = []
    /// Tokens routed to each of `experts`.
    public internal(set) var expertTokens: [Int32] = []
    /// Summed gate weight of those tokens (NaN where the trace has no weights).
    public internal(set) var expertGateMass: [Float] = []
    /// Per layer: the gate weight routed there, summed in ``experts`` order as `Double` (each
    /// expert's token count where the trace has no weights): the mass the engine's fidelity
    /// figures count, worked out while the step is formed.
    public internal(set) var layerRoutedMass: [Double] = []
    /// The sequence of each token, in step order.
    public internal(set) var tokenSequences: [Int] = []
    /// Per-token routing, token-major: token t's k ids at layer l start at `(t × layers + l) × topK`;
    /// ``absentExpert`` where the trace lacks that layer for the token.
    public internal(set) var tokenExperts: [UInt16] = []
    /// Gate weight of each entry of ``tokenExperts`` (NaN where the trace has no weights).
    public internal(set) var tokenWeights: [Float] = []
    /// Lookaheads whose recorded predictions the step carries.
    public internal(set) var recordedLookaheads: [Int] = []
    /// Experts per recorded prediction set.
    public internal(set) var recordedWidth = 0
    /// Recorded predictions per lookahead (in ``recordedLookaheads`` order), token-major: the
    /// set of token t for target layer m starts at `(t × layers + m) × recordedWidth`;
    /// `UInt16.max` fills target layers below the lookahead.
    public internal(set) var tokenPredictions: [[UInt16]] = []
    /// Routed decisions in the step (tokens × layers × top-k, absent layers included), whatever
    /// the step's ``StepContent``.
    public internal(set) var decisions = 0

    /// The id in ``tokenExperts`` of a layer the token lacks (format version 2 traces).
    public static let absentExpert = UInt16.max

    /// An empty step.
    public init() {}

    /// The experts of `layer` as a range into ``experts``.
    @inlinable public func range(layer: Int) -> Range<Int> { layerStart[layer]..<layerStart[layer + 1] }
}
