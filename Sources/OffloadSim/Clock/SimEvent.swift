/// The order in which events due at the same nanosecond are handled.
///
/// Completions come first, so that a resource freed at time t is free for anything
/// that starts at t: a copy's latency or transfer ending (`copy`), then a CPU expert
/// ending (`cpu`), then a compute op ending (`compute`), all before the next step is
/// admitted (`step`). Within a
/// phase, events run in the order they were scheduled (the queue's sequence number).
/// `EventQueueTests` pins this order.
public enum EventPhase: UInt8, Sendable, Comparable {
    /// A bus copy's latency or transfer finished.
    case copy = 0
    /// An expert computed on the host CPU finished.
    case cpu = 1
    /// A compute-stream operation finished. ``Simulation`` keeps its one pending completion
    /// outside the queue and handles it where this phase sorts.
    case compute = 2
    /// A new step begins.
    case step = 3

    public static func < (lhs: EventPhase, rhs: EventPhase) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A scheduled event: what happens, when, and the tie-break that makes its order total.
///
/// Ordered by (`time`, `phase`, `sequence`); `sequence` is unique per queue, so no two
/// events compare equal and a run's order depends on nothing but its inputs.
public struct SimEvent: Sendable, Comparable {
    /// When it fires.
    public var time: Nanoseconds
    /// Tie-break class at equal times.
    public var phase: EventPhase
    /// Scheduling order within the queue.
    public var sequence: UInt64
    /// Component-defined payload (a copy id, a compute op).
    public var payload: Int32
    /// Component-defined version: an event whose stamp no longer matches is stale and skipped.
    public var stamp: UInt32

    public static func < (lhs: SimEvent, rhs: SimEvent) -> Bool {
        if lhs.time != rhs.time { return lhs.time < rhs.time }
        if lhs.phase != rhs.phase { return lhs.phase < rhs.phase }
        return lhs.sequence < rhs.sequence
    }

    public static func == (lhs: SimEvent, rhs: SimEvent) -> Bool { lhs.sequence == rhs.sequence }
}
