/// A 4-ary min-heap of cache keys by priority that knows where each key sits, so that a
/// key's priority is changed in place and a key is removed directly: one entry per key,
/// never a stale one. The order is total, (priority, key), so equal priorities rank by
/// ascending key. Belady keeps one per partition for the next uses it does not rank by position
/// (LFU kept one too, before ``FrequencyLists``).
///
/// A key can also be parked: held with its priority but out of the heap, so that a search
/// for the least eligible key does not pass over it (under Belady the cache parks the
/// experts a large layer locks, which can never be victims).
///
/// Costs: update, remove, park and unpark are O(log n) for n keys in the heap (four
/// children per entry: half the levels of a binary heap, which the many updates that move
/// a key up gain from); memory is 12 bytes per possible key plus 16 bytes per key in the
/// heap. (A lazy heap, which pushed a new entry on every use and skipped stale ones when
/// popping, spent 40% of a Belady replay on them.)
struct KeyedMinHeap: Sendable {
    struct Entry: Comparable, Sendable {
        var priority: UInt64
        var key: Int32
        static func < (a: Entry, b: Entry) -> Bool { a.priority != b.priority ? a.priority < b.priority : a.key < b.key }
    }

    /// Children per entry.
    private static let arity = 4
    // Computed, not stored: a stored tuple was initialised lazily, a `swift_once` check per update.
    /// `position` of a key that is not held.
    private static var notHeld: Int32 { -1 }
    /// `position` of a parked key.
    private static var isParked: Int32 { -2 }
    private var nodes: [Entry] = []
    /// Per key: its index in `nodes`, ``notHeld`` or ``isParked``.
    private var position: [Int32]
    /// Per parked key: its priority.
    private var parkedPriority: [UInt64]
    /// Keys parked now.
    private(set) var parkedCount = 0

    /// An empty heap over keys `0..<keys`.
    init(keys: Int) {
        position = Array(repeating: Self.notHeld, count: keys)
        parkedPriority = Array(repeating: 0, count: keys)
    }

    /// Gives `key` the priority `priority`, adding it if it is not held, parked when
    /// `parkingIfNew` (a parked key stays parked with the new priority).
    mutating func update(_ key: Int, priority: UInt64, parkingIfNew: Bool = false) {
        let entry = Entry(priority: priority, key: Int32(key))
        let index = Int(position[key])
        if index == Int(Self.isParked) || (index < 0 && parkingIfNew) {
            if index != Int(Self.isParked) { parkedCount += 1 }
            position[key] = Self.isParked
            parkedPriority[key] = priority
        } else if index < 0 {
            nodes.append(entry)
            position[key] = Int32(nodes.count - 1)
            siftUp(nodes.count - 1)
        } else if entry < nodes[index] {
            nodes[index] = entry
            siftUp(index)
        } else {
            nodes[index] = entry
            siftDown(index)
        }
    }

    /// Whether `key` is held, in the heap or parked.
    func holds(_ key: Int) -> Bool { position[key] != Self.notHeld }

    /// Whether `key` is parked.
    func isParked(_ key: Int) -> Bool { position[key] == Self.isParked }

    /// Takes `key` out of the heap, keeping its priority, if it is in the heap.
    mutating func park(_ key: Int) {
        let index = Int(position[key])
        guard index >= 0 else { return }
        parkedPriority[key] = nodes[index].priority
        remove(key)
        position[key] = Self.isParked
        parkedCount += 1
    }

    /// Puts a parked `key` back into the heap with its priority.
    mutating func unpark(_ key: Int) {
        guard position[key] == Self.isParked else { return }
        position[key] = Self.notHeld
        parkedCount -= 1
        update(key, priority: parkedPriority[key])
    }

    /// Removes `key` if it is held (parked or not).
    mutating func remove(_ key: Int) {
        let index = Int(position[key])
        guard index >= 0 else {
            if index == Int(Self.isParked) { parkedCount -= 1 }
            position[key] = Self.notHeld
            return
        }
        position[key] = Self.notHeld
        let last = nodes.removeLast()
        guard index < nodes.count else { return }
        nodes[index] = last
        position[Int(last.key)] = Int32(index)
        if index > 0 && last < nodes[(index - 1) / Self.arity] { siftUp(index) } else { siftDown(index) }
    }

    /// The key of least (priority, key) among those `eligible` accepts, or nil; the heap is
    /// unchanged. Every ancestor of the least eligible entry ranks before it, so is not
    /// eligible: the search descends only through entries `eligible` refuses, and skips a
    /// subtree whose top ranks after the best found so far. O(1) when the least entry is
    /// eligible; otherwise O(refused entries visited), for the cache its locked experts.
    /// (Popping refused entries and pushing them back cost two O(log n) sifts each.)
    func least(where eligible: (Int) -> Bool) -> Int? {
        leastEntry(where: eligible).map { Int($0.key) }
    }

    /// ``least(where:)`` with the key's priority.
    func leastEntry(where eligible: (Int) -> Bool) -> Entry? {
        guard let root = nodes.first else { return nil }
        if eligible(Int(root.key)) { return root }
        return nodes.withUnsafeBufferPointer { nodes in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: nodes.count) { refused in
                var best: Entry?
                refused[0] = 0
                var pending = 1
                while pending > 0 {
                    pending -= 1
                    let parent = refused[pending]
                    let first = Self.arity * parent + 1
                    for child in first..<max(first, min(first + Self.arity, nodes.count)) {
                        let entry = nodes[child]
                        if let best, !(entry < best) { continue }
                        if eligible(Int(entry.key)) {
                            best = entry
                        } else {
                            refused[pending] = child
                            pending += 1
                        }
                    }
                }
                return best
            }
        }
    }

    private mutating func siftUp(_ start: Int) {
        nodes.withUnsafeMutableBufferPointer { nodes in
            position.withUnsafeMutableBufferPointer { position in
                var index = start
                let entry = nodes[index]
                while index > 0 {
                    let parent = (index - 1) / Self.arity
                    guard entry < nodes[parent] else { break }
                    nodes[index] = nodes[parent]
                    position[Int(nodes[index].key)] = Int32(index)
                    index = parent
                }
                nodes[index] = entry
                position[Int(entry.key)] = Int32(index)
            }
        }
    }

    private mutating func siftDown(_ start: Int) {
        nodes.withUnsafeMutableBufferPointer { nodes in
            position.withUnsafeMutableBufferPointer { position in
                var index = start
                let entry = nodes[index]
                let count = nodes.count
                while true {
                    let first = Self.arity * index + 1
                    guard first < count else { break }
                    var child = first
                    for other in first + 1..<min(first + Self.arity, count) where nodes[other] < nodes[child] { child = other }
                    guard nodes[child] < entry else { break }
                    nodes[index] = nodes[child]
                    position[Int(nodes[index].key)] = Int32(index)
                    index = child
                }
                nodes[index] = entry
                position[Int(entry.key)] = Int32(index)
            }
        }
    }
}
