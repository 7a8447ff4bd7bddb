/// A clock for the measurements' `clock` parameter that moves by the given steps, ns, one per
/// reading (then stands still): a pass's time is the step read at its end.
final class SteppedClock: @unchecked Sendable {
    private var now: UInt64 = 0
    private var steps: [UInt64]

    init(_ steps: [UInt64]) { self.steps = steps }

    func read() -> UInt64 {
        now += steps.isEmpty ? 0 : steps.removeFirst()
        return now
    }
}
