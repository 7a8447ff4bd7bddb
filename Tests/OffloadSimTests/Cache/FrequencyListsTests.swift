@testable import OffloadSim
import Testing
import TraceStore

@Suite("Frequency lists")
struct FrequencyListsTests {
    /// The lists against a ``KeyedMinHeap`` per partition given priority `level << 40 | time`,
    /// the time advancing at every update (as the cache's clock does), under random updates
    /// (up one level, the same level, a jump up or down, a new key at level 1 or at any level),
    /// removals, and random eligibilities: the same least eligible key, the same held keys at
    /// the same levels, in one and in three partitions.
    @Test("they rank keys exactly as a heap by (level, time of update) does", arguments: 0..<12)
    func ranksAsTheHeap(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed), stream: "frequency-lists")
        let keys = 2 + random.int(below: 40)
        let partitions = seed % 2 == 0 ? 1 : 3
        func partition(_ key: Int) -> Int { key % partitions }
        var lists = FrequencyLists(keys: keys, partitions: partitions)
        var heaps = Array(repeating: KeyedMinHeap(keys: keys), count: partitions)
        var levels = [UInt32?](repeating: nil, count: keys)
        var time: UInt64 = 0
        for _ in 0..<3_000 {
            let key = random.int(below: keys)
            if random.uniform() < 0.15 {
                lists.remove(key, partition: partition(key))
                heaps[partition(key)].remove(key)
                levels[key] = nil
            } else {
                let level: UInt32
                switch (levels[key], random.int(below: 6)) {
                case (nil, 0...3): level = 1
                case (nil, _): level = UInt32(random.int(below: 30))
                case (let held?, 0...2): level = held + 1
                case (let held?, 3): level = held
                case (let held?, 4): level = held + UInt32(random.int(below: 8))
                case (_, _): level = UInt32(random.int(below: 30))
                }
                time += 1
                lists.update(key, level: level, partition: partition(key))
                heaps[partition(key)].update(key, priority: UInt64(level) << 40 | time)
                levels[key] = level
            }
            for part in 0..<partitions {
                let refused = Set((0..<keys).filter { _ in random.uniform() < 0.5 })
                #expect(lists.least(partition: part) { !refused.contains($0) } == heaps[part].least { !refused.contains($0) })
                #expect(lists.least(partition: part) { _ in true } == heaps[part].least { _ in true })
            }
            #expect((0..<keys).map { lists.level(of: $0) } == levels)
        }
    }

    @Test("a key used again moves behind the keys that reached its new level before it")
    func useMovesBehindItsNewLevel() {
        var lists = FrequencyLists(keys: 4, partitions: 1)
        for key in 0..<4 { lists.update(key, level: 1, partition: 0) }
        lists.update(2, level: 2, partition: 0)
        lists.update(0, level: 2, partition: 0)
        lists.update(2, level: 2, partition: 0)
        #expect(lists.keys(partition: 0) == [1, 3, 0, 2])
        lists.remove(1, partition: 0)
        lists.remove(3, partition: 0)
        #expect(lists.keys(partition: 0) == [0, 2])
        #expect(lists.least(partition: 0) { $0 != 0 } == 2)
    }

    @Test("every key at its own level, one moving up, needs one bucket more than the keys")
    func everyKeyAtItsOwnLevel() {
        var lists = FrequencyLists(keys: 3, partitions: 1)
        for key in 0..<3 { lists.update(key, level: UInt32(key + 1), partition: 0) }
        lists.update(0, level: 5, partition: 0)
        lists.update(1, level: 6, partition: 0)
        #expect(lists.keys(partition: 0) == [2, 0, 1])
        #expect((0..<3).map { lists.level(of: $0) } == [5, 6, 3])
    }

    @Test("a copy keeps its ranking when the original changes")
    func copyIsIndependent() {
        var original = FrequencyLists(keys: 3, partitions: 1)
        original.update(0, level: 1, partition: 0)
        original.update(1, level: 1, partition: 0)
        let copy = original
        original.update(0, level: 2, partition: 0)
        original.remove(1, partition: 0)
        #expect(copy.keys(partition: 0) == [0, 1])
        #expect(original.keys(partition: 0) == [0])
    }
}
