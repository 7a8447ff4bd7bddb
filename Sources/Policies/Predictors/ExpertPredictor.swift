import OffloadSim

/// What a policy may know of the future (DESIGN.md §3): given a token's routing up to
/// layer l (and what it has learned or recorded), the experts that token will use at
/// layer l + d. Predictors are separate from the policies that act on them, so that one
/// mechanism can be run with an oracle, a recall-r stand-in or a learned table.
public protocol ExpertPredictor: AnyObject {
    /// Name as reports print it ("cross-layer", "parametric r=0.90").
    var name: String { get }
    /// Whether it learns from the trace (and so must be evaluated and run on held-out sequences).
    var isLearned: Bool { get }
    /// Learns from one step of a training-split sequence (learned predictors only).
    func learn(_ step: Step)
    /// Sees a step after it ran, for predictors that follow each sequence (previous token,
    /// activation matrix). Called with test-split steps only.
    func observe(_ step: Step)
    /// Appends to `predicted` up to `width` distinct experts expected at layer
    /// `layer + lookahead` for token `token` of `step`, whose routing up to `layer` is known.
    func predict(_ step: Step, token: Int, layer: Int, lookahead: Int, width: Int, into predicted: inout [UInt16])
}

extension ExpertPredictor {
    public var isLearned: Bool { false }
    public func learn(_ step: Step) {}
    public func observe(_ step: Step) {}
}

/// The shape facts predictors need.
public struct PredictorShape: Sendable, Equatable {
    /// MoE layers.
    public var layers: Int
    /// Experts per layer.
    public var experts: Int
    /// Experts per token per layer.
    public var topK: Int

    /// Creates a shape.
    public init(layers: Int, experts: Int, topK: Int) {
        self.layers = layers
        self.experts = experts
        self.topK = topK
    }

    /// The k true experts of `token` at `layer` in `step`; none where the trace lacks that layer for the token.
    @inlinable public func truth(_ step: Step, token: Int, layer: Int) -> ArraySlice<UInt16> {
        let start = (token * layers + layer) * topK
        guard step.tokenExperts[start] != Step.absentExpert else { return step.tokenExperts[start..<start] }
        return step.tokenExperts[start..<start + topK]
    }
}
