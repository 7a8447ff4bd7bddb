/// An intrusive doubly linked list over cache keys, oldest first: the order LRU (moved to
/// the back on every use) and FIFO (in insertion order) evict in. Insert, move, remove
/// and finding the oldest unlocked key are O(1) apart from skipping locked keys.
///
/// The links live in one allocation behind a class, copied on write as a whole: a mutation
/// checks uniqueness once, not once per link it writes (an `Array` per field did, four to
/// eight times per move, a tenth of a replay's instructions).
struct RecencyList: Sendable {
    private var storage: Storage

    init(keys: Int, partitions: Int) {
        storage = Storage(keys: keys, partitions: partitions)
    }

    /// Appends `key` as the newest of `partition` (moving it there if already listed).
    @inline(__always)
    mutating func append(_ key: Int, partition: Int) {
        uniqueLinks().append(key, partition: partition)
    }

    /// Unlinks `key`.
    @inline(__always)
    mutating func remove(_ key: Int, partition: Int) {
        uniqueLinks().remove(key, partition: partition)
    }

    /// The oldest key of `partition` that `eligible` accepts, or nil.
    func oldest(partition: Int, where eligible: (Int) -> Bool) -> Int? {
        var key = oldest(partition: partition)
        while key >= 0 {
            if eligible(key) { return key }
            key = newer(than: key)
        }
        return nil
    }

    /// The oldest key of `partition`, or -1 when it lists none.
    func oldest(partition: Int) -> Int { Int(storage.head[partition]) }

    /// The key listed after `key` (the next newer one), or -1 after the newest.
    func newer(than key: Int) -> Int { Int(storage.next[key]) }

    private mutating func uniqueStorage() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    /// The links, made unique, for a run of operations with no uniqueness check or reference
    /// count each (a layer's lookups: ``ExpertCache/lookUpOnDemand(layer:experts:nextUses:reserving:into:)``).
    /// Valid until the list is next mutated through another call or copied.
    mutating func uniqueLinks() -> Links {
        let links = uniqueStorage()
        return Links(previous: links.previous, next: links.next, member: links.member, head: links.head, tail: links.tail)
    }

    /// The list's buffers as raw pointers (see ``uniqueLinks()``): the same operations as the
    /// list's, O(1) each.
    struct Links {
        let previous: UnsafeMutablePointer<Int32>
        let next: UnsafeMutablePointer<Int32>
        let member: UnsafeMutablePointer<Bool>
        let head: UnsafeMutablePointer<Int32>
        let tail: UnsafeMutablePointer<Int32>

        /// Appends `key` as the newest of `partition` (moving it there if already listed).
        @inline(__always)
        func append(_ key: Int, partition: Int) {
            remove(key, partition: partition)
            member[key] = true
            let last = tail[partition]
            previous[key] = last
            next[key] = -1
            if last >= 0 { next[Int(last)] = Int32(key) } else { head[partition] = Int32(key) }
            tail[partition] = Int32(key)
        }

        /// Unlinks `key` (nothing when it is not listed).
        @inline(__always)
        func remove(_ key: Int, partition: Int) {
            guard member[key] else { return }
            member[key] = false
            let before = previous[key], after = next[key]
            if before >= 0 { next[Int(before)] = after } else { head[partition] = after }
            if after >= 0 { previous[Int(after)] = before } else { tail[partition] = before }
        }
    }

    /// The links: per key its neighbours and whether it is listed; per partition its ends.
    /// Unchecked `Sendable`: it is written only through `uniqueStorage()`, so a copy shared
    /// across threads is never written while shared.
    private final class Storage: @unchecked Sendable {
        let keys: Int
        let partitions: Int
        let previous: UnsafeMutablePointer<Int32>
        let next: UnsafeMutablePointer<Int32>
        let member: UnsafeMutablePointer<Bool>
        let head: UnsafeMutablePointer<Int32>
        let tail: UnsafeMutablePointer<Int32>

        init(keys: Int, partitions: Int) {
            self.keys = keys
            self.partitions = partitions
            previous = .filled(with: -1, count: keys)
            next = .filled(with: -1, count: keys)
            member = .filled(with: false, count: keys)
            head = .filled(with: -1, count: partitions)
            tail = .filled(with: -1, count: partitions)
        }

        private init(copying other: Storage) {
            (keys, partitions) = (other.keys, other.partitions)
            previous = other.previous.copied(count: keys)
            next = other.next.copied(count: keys)
            member = other.member.copied(count: keys)
            head = other.head.copied(count: partitions)
            tail = other.tail.copied(count: partitions)
        }

        func copy() -> Storage { Storage(copying: self) }

        deinit {
            previous.deallocate()
            next.deallocate()
            member.deallocate()
            head.deallocate()
            tail.deallocate()
        }
    }
}
