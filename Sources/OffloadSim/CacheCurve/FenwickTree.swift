/// A Fenwick (binary indexed) tree of integer sums over positions 0..<count (Fenwick,
/// "A new data structure for cumulative frequency tables", Software: Practice and Experience
/// 1994): add and prefix sum in O(log count), rebuilt from values in O(count). Storage is
/// one allocation for the tree's lifetime.
final class FenwickTree {
    let count: Int
    private let tree: UnsafeMutablePointer<Int>

    init(count: Int) {
        self.count = count
        tree = .allocate(capacity: count + 1)
        tree.initialize(repeating: 0, count: count + 1)
    }

    deinit { tree.deallocate() }

    /// Adds `value` at `position`.
    @inline(__always)
    func add(_ position: Int, _ value: Int) {
        var index = position + 1
        while index <= count {
            tree[index] += value
            index += index & -index
        }
    }

    /// The sum over positions 0..<end.
    @inline(__always)
    func prefix(_ end: Int) -> Int {
        var sum = 0, index = end
        while index > 0 {
            sum += tree[index]
            index &= index - 1
        }
        return sum
    }

    /// Replaces every position's value: `values(position)` for 0..<count, in O(count).
    func rebuild(_ values: (Int) -> Int) {
        tree[0] = 0
        for index in 1...count { tree[index] = values(index - 1) }
        for index in 1...count {
            let parent = index + (index & -index)
            if parent <= count { tree[parent] += tree[index] }
        }
    }
}
