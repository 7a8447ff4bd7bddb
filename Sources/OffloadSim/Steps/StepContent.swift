/// What the steps a ``BatchFormer`` forms carry besides each layer's distinct experts and the
/// tokens routed to each (which every step has).
public enum StepContent: Sendable {
    /// Nothing more: a pre-pass over the lookups (Belady's next uses, the pinned rule's counts).
    case lookups
    /// Each expert's summed gate weight too (``Step/expertGateMass``, and so the weight in
    /// ``Step/layerRoutedMass``): all that the closed-form on-demand replay reads.
    case gateMass
    /// Also the per-token routing, gate weights and sequences (``Step/tokenExperts``,
    /// ``Step/tokenWeights``, ``Step/tokenSequences``) and the recorded predictions, which
    /// predictors and the event-driven engine's policies read.
    case tokens
}
