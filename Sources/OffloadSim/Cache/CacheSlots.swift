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
        residency = .filled(with: .absent, count: keys)
        locks = .filled(with: 0, count: keys)
        useCount = .filled(with: 0, count: keys)
        usedBytes = .filled(with: 0, count: partitions)
        lockedBytes = .filled(with: 0, count: partitions)
    }

    private init(copying other: CacheSlots) {
        (keys, partitions) = (other.keys, other.partitions)
        residency = other.residency.copied(count: keys)
        locks = other.locks.copied(count: keys)
        useCount = other.useCount.copied(count: keys)
        usedBytes = other.usedBytes.copied(count: partitions)
        lockedBytes = other.lockedBytes.copied(count: partitions)
    }

    /// A copy of every buffer.
    func copy() -> CacheSlots { CacheSlots(copying: self) }

    deinit {
        residency.deallocate()
        locks.deallocate()
        useCount.deallocate()
        usedBytes.deallocate()
        lockedBytes.deallocate()
    }
}
