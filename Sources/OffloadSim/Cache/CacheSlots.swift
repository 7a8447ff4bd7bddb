/// The per-key and per-partition state of an ``ExpertCache``, in raw buffers behind one
/// class: the cache checks that it holds the only reference once per operation and copies
/// the whole state otherwise (copy on write), instead of once per array written — an `Array`
/// per field checked its uniqueness three to six times per lookup, and bounds on every read.
///
/// Unchecked `Sendable`: it is written only after that check, so a copy shared across
/// threads is never written while shared.
final class CacheSlots: @unchecked Sendable {
    /// Keys (layers × experts per layer).
    let keys: Int
    /// Partitions (layers when partitioned, else 1).
    let partitions: Int
    /// Per key: absent, filling or resident.
    let residency: UnsafeMutablePointer<ExpertResidency>
    /// Per key: how many holders lock it against eviction.
    let locks: UnsafeMutablePointer<UInt16>
    /// Per key: uses so far (LFU).
    let useCount: UnsafeMutablePointer<UInt32>
    /// Per partition: bytes of resident and filling experts.
    let usedBytes: UnsafeMutablePointer<Int>
    /// Per partition: bytes of experts that cannot be evicted now (locked or filling).
    let lockedBytes: UnsafeMutablePointer<Int>

    init(keys: Int, partitions: Int) {
        self.keys = keys
        self.partitions = partitions
        residency = .allocate(capacity: keys)
        residency.initialize(repeating: .absent, count: keys)
        locks = .allocate(capacity: keys)
        locks.initialize(repeating: 0, count: keys)
        useCount = .allocate(capacity: keys)
        useCount.initialize(repeating: 0, count: keys)
        usedBytes = .allocate(capacity: partitions)
        usedBytes.initialize(repeating: 0, count: partitions)
        lockedBytes = .allocate(capacity: partitions)
        lockedBytes.initialize(repeating: 0, count: partitions)
    }

    /// A copy of every buffer.
    func copy() -> CacheSlots {
        let copy = CacheSlots(keys: keys, partitions: partitions)
        copy.residency.update(from: residency, count: keys)
        copy.locks.update(from: locks, count: keys)
        copy.useCount.update(from: useCount, count: keys)
        copy.usedBytes.update(from: usedBytes, count: partitions)
        copy.lockedBytes.update(from: lockedBytes, count: partitions)
        return copy
    }

    deinit {
        residency.deallocate()
        locks.deallocate()
        useCount.deallocate()
        usedBytes.deallocate()
        lockedBytes.deallocate()
    }
}
