import TraceStore

/// An eviction rule's ranking of the cached keys as ``ExpertCache``'s raw on-demand lookup
/// drives it: the rule's own part of a layer's lookups (which key a use moves, where a new
/// key enters, which key goes first), the frame around it (locks, room, fills) being the
/// cache's (``ExpertCache/RankedLookup``). LRU, FIFO and LFU work on raw buffers made unique
/// once for the layer; S3-FIFO, ARC and random on their partition's structures, lent by pointer.
protocol DemandRanking {
    /// A resident `key` of `partition` was used.
    func touch(_ key: Int, partition: Int)
    /// A miss on `key` of `partition` is about to make room for it (before any eviction).
    func prepareMiss(_ key: Int, partition: Int)
    /// `key` entered `partition` (a slot was reserved for it).
    func enter(_ key: Int, partition: Int)
    /// Takes the least ranked key of `partition` that `eligible` accepts out of the ranking
    /// and returns it; nil when there is none.
    func takeLeast(partition: Int, where eligible: (Int) -> Bool) -> Int?
}

extension DemandRanking {
    /// Most rules do nothing before a miss.
    @inline(__always)
    func prepareMiss(_ key: Int, partition: Int) {}
}

/// LRU (a use moves the key to the back) and FIFO (it does not) over a ``RecencyList``.
struct RecencyRanking: DemandRanking {
    let links: RecencyList.Links
    /// Whether a use moves the key to the back (LRU).
    let movesOnUse: Bool

    @inline(__always)
    func touch(_ key: Int, partition: Int) {
        if movesOnUse && links.tail[partition] != Int32(key) { links.append(key, partition: partition) }
    }

    @inline(__always)
    func enter(_ key: Int, partition: Int) { links.append(key, partition: partition) }

    @inline(__always)
    func takeLeast(partition: Int, where eligible: (Int) -> Bool) -> Int? {
        var key = Int(links.head[partition])
        while key >= 0 && !eligible(key) { key = Int(links.next[key]) }
        guard key >= 0 else { return nil }
        links.remove(key, partition: partition)
        return key
    }
}

/// LFU over ``FrequencyLists``, levels being use counts (a count above 2^24 − 1 ranks as
/// 2^24 − 1, as in the heap priority that ranked LFU before): a use raises the count; a new key
/// starts at 1, or, when the rule `remembers` (LFU-perfect), at one more than its count before
/// it was evicted.
struct FrequencyRanking: DemandRanking {
    let links: FrequencyLists.Links
    let useCount: UnsafeMutablePointer<UInt32>
    let remembers: Bool

    static let maximumLevel: UInt32 = 0xFF_FFFF

    @inline(__always)
    func touch(_ key: Int, partition: Int) {
        useCount[key] &+= 1
        links.update(key, level: min(useCount[key], Self.maximumLevel), partition: partition)
    }

    @inline(__always)
    func enter(_ key: Int, partition: Int) {
        useCount[key] = remembers ? useCount[key] &+ 1 : 1
        links.update(key, level: min(useCount[key], Self.maximumLevel), partition: partition)
    }

    @inline(__always)
    func takeLeast(partition: Int, where eligible: (Int) -> Bool) -> Int? {
        guard let key = links.least(partition: partition, where: eligible) else { return nil }
        links.remove(key, partition: partition)
        return key
    }
}

/// S3-FIFO over its partition's ``S3FIFOQueues``, as ``ExpertCache`` drives them one call at
/// a time: a hit raises the key's counter, a new key enters S or M, and a victim is what the
/// queues' eviction takes, passing over the keys the caller refuses.
struct S3FIFORanking: DemandRanking {
    let queues: UnsafeMutablePointer<S3FIFOQueues>
    let keyBytes: UnsafeBufferPointer<Int>

    @inline(__always)
    func touch(_ key: Int, partition: Int) { queues.pointee.hit(key) }

    @inline(__always)
    func enter(_ key: Int, partition: Int) { queues.pointee.insert(key, bytes: keyBytes[key]) }

    @inline(__always)
    func takeLeast(partition: Int, where eligible: (Int) -> Bool) -> Int? {
        let keyBytes = self.keyBytes
        return queues.pointee.evict(bytes: { keyBytes[$0] }, locked: { !eligible($0) })
    }
}

/// ARC over its partition's ``ARCLists``: a hit moves the key to T2, a miss adapts the target
/// or trims the ghosts before any eviction, REPLACE picks the victim.
struct ARCRanking: DemandRanking {
    let lists: UnsafeMutablePointer<ARCLists>

    @inline(__always)
    func touch(_ key: Int, partition: Int) { lists.pointee.hit(key) }

    @inline(__always)
    func prepareMiss(_ key: Int, partition: Int) { lists.pointee.prepareMiss(key) }

    @inline(__always)
    func enter(_ key: Int, partition: Int) { lists.pointee.insert(key) }

    @inline(__always)
    func takeLeast(partition: Int, where eligible: (Int) -> Bool) -> Int? {
        lists.pointee.evict { !eligible($0) }
    }
}

/// The random rule over its partition's resident keys: a victim is the first eligible key from
/// a seeded random index on (wrapping), taken out by swapping the last key into its place, as
/// ``ExpertCache``'s own calls do.
struct RandomRanking: DemandRanking {
    /// The partition's resident (and filling) keys.
    let keys: UnsafeMutablePointer<[Int32]>
    /// Per key: its index in its partition's `keys`, or -1.
    let index: UnsafeMutablePointer<Int32>
    let random: UnsafeMutablePointer<SplitMix64>

    @inline(__always)
    func touch(_ key: Int, partition: Int) {}

    @inline(__always)
    func enter(_ key: Int, partition: Int) {
        index[key] = Int32(keys.pointee.count)
        keys.pointee.append(Int32(key))
    }

    @inline(__always)
    func takeLeast(partition: Int, where eligible: (Int) -> Bool) -> Int? {
        let count = keys.pointee.count
        guard count > 0 else { return nil }
        let start = Int(random.pointee.next() % UInt64(count))
        let victim = keys.pointee.withUnsafeBufferPointer { keys -> Int? in
            for step in 0..<count {
                let key = Int(keys[(start + step) % count])
                if eligible(key) { return key }
            }
            return nil
        }
        guard let victim else { return nil }
        let at = Int(index[victim])
        let last = keys.pointee.removeLast()
        if Int(last) != victim {
            keys.pointee[at] = last
            index[Int(last)] = Int32(at)
        }
        index[victim] = -1
        return victim
    }
}
