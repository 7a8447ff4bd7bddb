@testable import OffloadSim
import Testing
import TraceStore

@Suite("Position set")
struct PositionSetTests {
    /// Random insertions and removals over capacities of one, two, three and four levels
    /// (edges included); after each, membership, the largest member and the largest member
    /// below random positions (and below each member) are those of a `Set` holding the same.
    @Test("members, the largest and the largest below a position are those of a plain set",
          arguments: [1, 63, 64, 65, 4096, 4097, 300_000])
    func matchesAPlainSet(capacity: Int) {
        var random = SplitMix64(seed: UInt64(capacity), stream: "position-set")
        let set = PositionSet.allocate(capacity: capacity)
        defer { set.deallocate() }
        var members: Set<Int> = []
        // Positions drawn near a few centres, so that words fill and empty at every level.
        let centres = [0, capacity / 2, capacity - 1, random.int(below: capacity)]
        for round in 0..<2_000 {
            let centre = centres[random.int(below: centres.count)]
            let position = min(capacity - 1, max(0, centre + random.int(below: 200) - 100))
            if random.uniform() < 0.55 {
                set.insert(position)
                members.insert(position)
            } else {
                set.remove(position)
                members.remove(position)
            }
            #expect(set.contains(position) == members.contains(position))
            #expect(set.last == members.max())
            let probe = random.int(below: capacity + 1)
            #expect(set.last(below: probe) == members.filter { $0 < probe }.max())
            if round % 100 == 0 {
                for member in members { #expect(set.last(below: member) == members.filter { $0 < member }.max()) }
            }
        }
    }

    @Test("a copy keeps its members when the original changes")
    func copyIsIndependent() {
        let original = PositionSet.allocate(capacity: 10_000)
        defer { original.deallocate() }
        original.insert(9_999)
        original.insert(5)
        let copy = original.copy()
        defer { copy.deallocate() }
        original.remove(9_999)
        #expect(copy.last == 9_999 && copy.last(below: 9_999) == 5)
        #expect(original.last == 5)
    }
}
