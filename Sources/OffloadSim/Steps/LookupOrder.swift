/// The order in which a layer batch's distinct experts are looked up, fetched and run.
public enum LookupOrder: String, Sendable, CaseIterable {
    /// Ascending expert id (moesim's default; the order the fused MoE kernels of vLLM and
    /// YALIS walk the experts in).
    case id
    /// The order the step's tokens name them: token by token, each token's experts by rank
    /// (highest gate weight first; the stored order when the trace has no weights), an expert
    /// where it first appears — trace order, as general cache simulators replay it.
    case rank
}
