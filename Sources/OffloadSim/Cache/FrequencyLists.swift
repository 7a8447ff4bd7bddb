/// Cache keys ranked for LFU: by level (a use count), least first, and among keys of one
/// level by the order in which they reached it, oldest first — the "O(1) LFU" of Shah,
/// Mitra and Matani ("An O(1) algorithm for implementing the LFU cache eviction scheme",
/// 2010), as libCacheSim's `LFU.c` keeps it (frequency nodes, FIFO within a frequency).
///
/// Each level that holds keys is a bucket: a doubly linked list of its keys, oldest first,
/// itself linked to the next lower and higher non-empty levels of its partition. A key
/// moved to a level goes to the back of that level's list, so the order is (level, order
/// of the last update) — the order in which ``ExpertCache`` ranked LFU before, in a
/// ``KeyedMinHeap`` by priority `level << 40 | clock` with its clock advanced before every
/// update (the same for any run of fewer than 2^40 updates). Moving a key up one
/// level, removing it and taking the oldest key of the lowest level are O(1); moving to a
/// level k non-empty levels away walks k buckets (a use moves a key one level up: k ≤ 1;
/// a key entering at a remembered count, as LFU-perfect does, walks from the lowest level).
/// Finding the least key that a predicate accepts passes over the keys it refuses, as
/// ``RecencyList`` does for LRU.
///
/// The buffers live behind one class, copied on write as a whole: an operation checks
/// uniqueness once. Memory: 12 bytes per possible key for the links and 20 bytes per key
/// for the buckets (there are at most as many non-empty levels as keys, and one more while
/// a key moves).
struct FrequencyLists: Sendable {
    private var storage: Storage

    /// Empty lists over keys `0..<keys` in `partitions` partitions (each ranked apart).
    init(keys: Int, partitions: Int) {
        storage = Storage(keys: keys, partitions: partitions)
    }

    /// Moves `key` (held or not) to the back of `level` in `partition`.
    mutating func update(_ key: Int, level: UInt32, partition: Int) {
        uniqueLinks().update(key, level: level, partition: partition)
    }

    /// Takes `key` out of the ranking (nothing when it is not held).
    mutating func remove(_ key: Int, partition: Int) {
        uniqueLinks().remove(key, partition: partition)
    }

    /// The level `key` is held at, or nil.
    func level(of key: Int) -> UInt32? {
        let links = storage.links
        let bucket = links.bucket[key]
        return bucket >= 0 ? links.level[Int(bucket)] : nil
    }

    /// The least key of `partition` in (level, arrival) order that `eligible` accepts, or nil.
    /// O(1) when the least key is eligible; otherwise O(refused keys passed).
    func least(partition: Int, where eligible: (Int) -> Bool) -> Int? {
        storage.links.least(partition: partition, where: eligible)
    }

    /// Every held key of `partition` in rank order (for tests and inspection). O(keys).
    func keys(partition: Int) -> [Int] {
        var keys: [Int] = []
        _ = storage.links.least(partition: partition) { keys.append($0); return false }
        return keys
    }

    /// The links, made unique, for a run of operations with no uniqueness check each (a
    /// layer's lookups: ``ExpertCache/lookUpOnDemand(layer:experts:nextUses:reserving:into:)``).
    /// Valid until the lists are next mutated through another call or copied.
    mutating func uniqueLinks() -> Links {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage.links
    }

    /// The lists' buffers as raw pointers (see ``uniqueLinks()``), with the operations.
    struct Links {
        /// Per key: its neighbours in its level's list (-1 at an end) and its bucket (-1: not held).
        let previous: UnsafeMutablePointer<Int32>
        let next: UnsafeMutablePointer<Int32>
        let bucket: UnsafeMutablePointer<Int32>
        /// Per bucket: its level, its oldest and newest keys, and the buckets of the next lower
        /// and higher non-empty levels of its partition (-1: none). A free bucket's `higher`
        /// links the free list.
        let level: UnsafeMutablePointer<UInt32>
        let head: UnsafeMutablePointer<Int32>
        let tail: UnsafeMutablePointer<Int32>
        let lower: UnsafeMutablePointer<Int32>
        let higher: UnsafeMutablePointer<Int32>
        /// Per partition: the bucket of its lowest level (-1: it holds no key).
        let lowest: UnsafeMutablePointer<Int32>
        /// The first free bucket (one value).
        let free: UnsafeMutablePointer<Int32>

        /// ``FrequencyLists/update(_:level:partition:)``.
        @inline(__always)
        func update(_ key: Int, level target: UInt32, partition: Int) {
            let key = Int32(key)
            let current = bucket[Int(key)]
            guard current >= 0 else {
                append(key, to: bucket(for: target, from: lowest[partition], partition: partition))
                return
            }
            // Already the newest of its level: moving it to the back changes nothing.
            if level[Int(current)] == target && tail[Int(current)] == key { return }
            // The target is found (or made) before the key leaves its bucket, which may then go.
            let destination = level[Int(current)] == target ? current : bucket(for: target, from: current, partition: partition)
            unlink(key)
            if head[Int(current)] < 0 && current != destination { release(current, partition: partition) }
            append(key, to: destination)
        }

        /// ``FrequencyLists/remove(_:partition:)``.
        @inline(__always)
        func remove(_ key: Int, partition: Int) {
            let key = Int32(key)
            let current = bucket[Int(key)]
            guard current >= 0 else { return }
            unlink(key)
            bucket[Int(key)] = -1
            if head[Int(current)] < 0 { release(current, partition: partition) }
        }

        /// ``FrequencyLists/least(partition:where:)``.
        @inline(__always)
        func least(partition: Int, where eligible: (Int) -> Bool) -> Int? {
            var at = lowest[partition]
            while at >= 0 {
                var key = head[Int(at)]
                while key >= 0 {
                    if eligible(Int(key)) { return Int(key) }
                    key = next[Int(key)]
                }
                at = higher[Int(at)]
            }
            return nil
        }

        /// The bucket of `target` in `partition`, made (and linked in order) if no key has that
        /// level, found by walking from `start` (a bucket of the partition, or -1 when it is empty).
        @inline(__always)
        private func bucket(for target: UInt32, from start: Int32, partition: Int) -> Int32 {
            guard start >= 0 else { return make(target, after: -1, before: -1, partition: partition) }
            var at = start
            if level[Int(at)] < target {
                while higher[Int(at)] >= 0 && level[Int(higher[Int(at)])] <= target { at = higher[Int(at)] }
                return level[Int(at)] == target ? at : make(target, after: at, before: higher[Int(at)], partition: partition)
            }
            while lower[Int(at)] >= 0 && level[Int(lower[Int(at)])] >= target { at = lower[Int(at)] }
            return level[Int(at)] == target ? at : make(target, after: lower[Int(at)], before: at, partition: partition)
        }

        /// A new empty bucket of `target` linked between `after` and `before` (-1: an end).
        private func make(_ target: UInt32, after: Int32, before: Int32, partition: Int) -> Int32 {
            let made = free.pointee
            precondition(made >= 0, "more non-empty levels than keys + 1")
            free.pointee = higher[Int(made)]
            level[Int(made)] = target
            (head[Int(made)], tail[Int(made)]) = (-1, -1)
            (lower[Int(made)], higher[Int(made)]) = (after, before)
            if after >= 0 { higher[Int(after)] = made } else { lowest[partition] = made }
            if before >= 0 { lower[Int(before)] = made }
            return made
        }

        /// Unlinks an empty bucket from its partition's levels and frees it.
        private func release(_ empty: Int32, partition: Int) {
            let (below, above) = (lower[Int(empty)], higher[Int(empty)])
            if below >= 0 { higher[Int(below)] = above } else { lowest[partition] = above }
            if above >= 0 { lower[Int(above)] = below }
            higher[Int(empty)] = free.pointee
            free.pointee = empty
        }

        /// Takes `key` out of its bucket's list (its bucket entry stays).
        @inline(__always)
        private func unlink(_ key: Int32) {
            let owner = Int(bucket[Int(key)])
            let (before, after) = (previous[Int(key)], next[Int(key)])
            if before >= 0 { next[Int(before)] = after } else { head[owner] = after }
            if after >= 0 { previous[Int(after)] = before } else { tail[owner] = before }
        }

        /// Puts `key` at the back of `destination`'s list.
        @inline(__always)
        private func append(_ key: Int32, to destination: Int32) {
            let last = tail[Int(destination)]
            (previous[Int(key)], next[Int(key)]) = (last, -1)
            if last >= 0 { next[Int(last)] = key } else { head[Int(destination)] = key }
            tail[Int(destination)] = key
            bucket[Int(key)] = destination
        }
    }

    /// The buffers. Unchecked `Sendable`: written only through `uniqueLinks()`, so a copy
    /// shared across threads is never written while shared.
    private final class Storage: @unchecked Sendable {
        let keys: Int
        let partitions: Int
        let links: Links

        init(keys: Int, partitions: Int) {
            (self.keys, self.partitions) = (keys, partitions)
            // One bucket more than keys: a key moving to a new level is put in its new bucket
            // before its old one is freed.
            let buckets = keys + 1
            let higher = UnsafeMutablePointer<Int32>.allocate(capacity: buckets)
            for index in 0..<buckets { (higher + index).initialize(to: index + 1 < buckets ? Int32(index + 1) : -1) }
            links = Links(previous: .filled(with: -1, count: keys), next: .filled(with: -1, count: keys),
                          bucket: .filled(with: -1, count: keys), level: .filled(with: 0, count: buckets),
                          head: .filled(with: -1, count: buckets), tail: .filled(with: -1, count: buckets),
                          lower: .filled(with: -1, count: buckets), higher: higher,
                          lowest: .filled(with: -1, count: partitions), free: .filled(with: 0, count: 1))
        }

        private init(copying other: Storage) {
            (keys, partitions) = (other.keys, other.partitions)
            let (from, buckets) = (other.links, other.keys + 1)
            links = Links(previous: from.previous.copied(count: keys), next: from.next.copied(count: keys),
                          bucket: from.bucket.copied(count: keys), level: from.level.copied(count: buckets),
                          head: from.head.copied(count: buckets), tail: from.tail.copied(count: buckets),
                          lower: from.lower.copied(count: buckets), higher: from.higher.copied(count: buckets),
                          lowest: from.lowest.copied(count: partitions), free: from.free.copied(count: 1))
        }

        func copy() -> Storage { Storage(copying: self) }

        deinit {
            for pointer in [links.previous, links.next, links.bucket, links.head, links.tail, links.lower, links.higher, links.lowest, links.free] {
                pointer.deallocate()
            }
            links.level.deallocate()
        }
    }
}
