import OffloadSim
import Testing

@Suite("Event queue")
struct EventQueueTests {
    @Test("events at one time run copy, then CPU, then compute, then step, each in scheduling order")
    func tieBreakOrder() {
        var queue = EventQueue()
        queue.schedule(at: 10, phase: .step, payload: 1)
        queue.schedule(at: 10, phase: .compute, payload: 2)
        queue.schedule(at: 5, phase: .step, payload: 3)
        queue.schedule(at: 10, phase: .copy, payload: 4)
        queue.schedule(at: 10, phase: .cpu, payload: 7)
        queue.schedule(at: 10, phase: .compute, payload: 5)
        queue.schedule(at: 10, phase: .copy, payload: 6)
        var order: [Int32] = []
        while let event = queue.popNext() { order.append(event.payload) }
        #expect(order == [3, 4, 6, 7, 2, 5, 1])
    }

    @Test("an earlier time always comes first whatever its phase")
    func timeDominates() {
        var queue = EventQueue()
        queue.schedule(at: 2, phase: .copy, payload: 1)
        queue.schedule(at: 1, phase: .step, payload: 2)
        #expect(queue.popNext()?.payload == 2)
        #expect(queue.popNext()?.payload == 1)
        #expect(queue.popNext() == nil)
    }
}
