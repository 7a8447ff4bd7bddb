@testable import OffloadSim
import Testing
import TraceStore

@Suite("Next-use queue")
struct NextUseQueueTests {
    /// A queue over lookup positions against a ``KeyedMinHeap`` given priority
    /// `UInt64.max - nextUse`, under random updates (next uses that are positions of the key,
    /// positions of another key, `UInt32.max`, values past the positions and repeated values),
    /// removals, parkings and unparkings: the same least eligible key for random eligibilities,
    /// and as many parked keys.
    @Test("it ranks keys exactly as a heap by next use does, positional or not", arguments: 0..<12)
    func ranksAsTheHeap(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed), stream: "next-use-queue")
        let keys = 4 + random.int(below: 40)
        let lookupKeys = (0..<3_000).map { _ in UInt32(random.int(below: keys)) }
        let positionsOfKey = Dictionary(grouping: lookupKeys.indices, by: { Int(lookupKeys[$0]) })
        var queue = NextUseQueue(keys: keys, lookupKeys: lookupKeys)
        var heap = KeyedMinHeap(keys: keys)
        for _ in 0..<1_500 {
            let key = random.int(below: keys)
            let draw = random.uniform()
            if draw < 0.15 {
                queue.remove(key)
                heap.remove(key)
            } else if draw < 0.25 {
                queue.park(key)
                heap.park(key)
            } else if draw < 0.35 {
                queue.unpark(key)
                heap.unpark(key)
            } else {
                let nextUse: UInt64
                switch random.int(below: 5) {
                case 0, 1: nextUse = UInt64(positionsOfKey[key]?.randomElement(using: &random) ?? 0)
                case 2: nextUse = UInt64(random.int(below: lookupKeys.count))
                case 3: nextUse = UInt64(UInt32.max)
                default: nextUse = UInt64(lookupKeys.count + random.int(below: 3))
                }
                let parking = random.uniform() < 0.2
                queue.update(key, nextUse: nextUse, parkingIfNew: parking)
                heap.update(key, priority: UInt64.max - nextUse, parkingIfNew: parking)
            }
            #expect(queue.parkedCount == heap.parkedCount)
            let refused = Set((0..<keys).filter { _ in random.uniform() < 0.5 })
            #expect(queue.least { !refused.contains($0) } == heap.least { !refused.contains($0) })
            #expect(queue.least { _ in true } == heap.least { _ in true })
        }
    }

    @Test("a copy keeps its ranking when the original changes")
    func copyIsIndependent() {
        var original = NextUseQueue(keys: 3, lookupKeys: [0, 1, 2, 0, 1])
        original.update(0, nextUse: 3)
        original.update(1, nextUse: 4)
        var copy = original
        original.remove(1)
        original.update(2, nextUse: 2)
        #expect(copy.least { _ in true } == 1)
        #expect(original.least { _ in true } == 0)
    }
}
