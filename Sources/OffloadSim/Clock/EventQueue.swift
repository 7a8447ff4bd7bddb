import HeapModule

/// The simulator's future-event list: a binary min-heap (swift-collections' `Heap`) of
/// ``SimEvent`` ordered by (time, phase, sequence number).
///
/// `schedule` and `popNext` are O(log n) in the number of pending events.
public struct EventQueue: Sendable {
    private var heap = Heap<SimEvent>()
    private var nextSequence: UInt64 = 0

    /// An empty queue.
    public init() {}

    /// Events waiting.
    public var count: Int { heap.count }

    /// Schedules an event at `time` and returns it (with its sequence number).
    @discardableResult
    public mutating func schedule(at time: Nanoseconds, phase: EventPhase, payload: Int32 = 0, stamp: UInt32 = 0) -> SimEvent {
        let event = SimEvent(time: time, phase: phase, sequence: nextSequence, payload: payload, stamp: stamp)
        nextSequence &+= 1
        heap.insert(event)
        return event
    }

    /// Removes and returns the earliest event, or nil when none is pending.
    public mutating func popNext() -> SimEvent? { heap.popMin() }

    /// The earliest event without removing it.
    public var peek: SimEvent? { heap.min }
}
