/// A forward-only stream of steps, as ``Simulation/run(_:)`` consumes them: a ``BatchFormer``
/// forming them, or a ``StepPipeline`` handing over the steps a former makes on another thread.
public protocol StepSource {
    /// Fills `step` with the next step; false when there are no more.
    mutating func next(into step: inout Step) throws -> Bool
}
