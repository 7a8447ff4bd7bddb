@testable import OffloadSim
import Testing
import TraceStore

@Suite("Keyed min-heap")
struct KeyedMinHeapTests {
    /// Random updates (priorities drawn from a few values, so that ties occur), removals,
    /// parkings and unparkings; after each, the least eligible key for a random eligibility
    /// is the one a scan of every held, unparked key finds by (priority, key), and a parked
    /// key comes back with the priority it was last given.
    @Test("the least eligible key is the one a full scan of the unparked keys finds, whatever the heap's shape", arguments: 0..<20)
    func leastEligibleMatchesAScan(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed), stream: "keyed-min-heap")
        let keys = 5 + random.int(below: 60)
        var heap = KeyedMinHeap(keys: keys)
        var held: [Int: UInt64] = [:]
        var parked: Set<Int> = []
        for _ in 0..<400 {
            let key = random.int(below: keys)
            let draw = random.uniform()
            if draw < 0.2 {
                heap.remove(key)
                held[key] = nil
                parked.remove(key)
            } else if draw < 0.3 {
                heap.park(key)
                if held[key] != nil { parked.insert(key) }
            } else if draw < 0.4 {
                heap.unpark(key)
                parked.remove(key)
            } else {
                let priority = UInt64(random.int(below: 8))
                let parking = random.uniform() < 0.2
                heap.update(key, priority: priority, parkingIfNew: parking)
                if held[key] == nil && parking { parked.insert(key) }
                held[key] = priority
            }
            #expect(heap.parkedCount == parked.count)
            let refused = Set((0..<keys).filter { _ in random.uniform() < 0.6 })
            let expected = held.filter { !refused.contains($0.key) && !parked.contains($0.key) }
                .min { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }?.key
            #expect(heap.least { !refused.contains($0) } == expected)
        }
    }

    @Test("an empty heap, or one whose keys are all refused, has no least eligible key")
    func noEligibleKey() {
        var heap = KeyedMinHeap(keys: 4)
        #expect(heap.least { _ in true } == nil)
        for key in 0..<4 { heap.update(key, priority: UInt64(key)) }
        #expect(heap.least { _ in false } == nil)
        #expect(heap.least { $0 >= 2 } == 2)
    }
}
