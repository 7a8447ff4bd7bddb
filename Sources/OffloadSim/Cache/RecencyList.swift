/// An intrusive doubly linked list over cache keys, oldest first: the order LRU (moved to
/// the back on every use) and FIFO (in insertion order) evict in. Insert, move, remove
/// and finding the oldest unlocked key are O(1) apart from skipping locked keys.
struct RecencyList {
    private var previous: [Int32]
    private var next: [Int32]
    private var member: [Bool]
    private var head: [Int32]
    private var tail: [Int32]

    init(keys: Int, partitions: Int) {
        previous = Array(repeating: -1, count: keys)
        next = Array(repeating: -1, count: keys)
        member = Array(repeating: false, count: keys)
        head = Array(repeating: -1, count: partitions)
        tail = Array(repeating: -1, count: partitions)
    }

    /// Appends `key` as the newest of `partition` (moving it there if already listed).
    mutating func append(_ key: Int, partition: Int) {
        if member[key] { remove(key, partition: partition) }
        member[key] = true
        previous[key] = tail[partition]
        next[key] = -1
        if tail[partition] >= 0 { next[Int(tail[partition])] = Int32(key) } else { head[partition] = Int32(key) }
        tail[partition] = Int32(key)
    }

    /// Unlinks `key`.
    mutating func remove(_ key: Int, partition: Int) {
        guard member[key] else { return }
        member[key] = false
        let before = previous[key], after = next[key]
        if before >= 0 { next[Int(before)] = after } else { head[partition] = after }
        if after >= 0 { previous[Int(after)] = before } else { tail[partition] = before }
    }

    /// The oldest key of `partition` that `eligible` accepts, or nil.
    func oldest(partition: Int, where eligible: (Int) -> Bool) -> Int? {
        var key = head[partition]
        while key >= 0 {
            if eligible(Int(key)) { return Int(key) }
            key = next[Int(key)]
        }
        return nil
    }
}
