/// An eviction rule's ranking of the cached keys as ``ExpertCache``'s raw on-demand lookup
/// drives it: the rule's own part of a layer's lookups (which key a use moves, where a new
/// key enters, which key goes first), the frame around it (locks, room, fills) being the
/// cache's. Each conformance works on raw buffers made unique once for the layer.
protocol DemandRanking {
    /// A resident `key` of `partition` was used.
    func touch(_ key: Int, partition: Int)
    /// `key` entered `partition` (a slot was reserved for it).
    func enter(_ key: Int, partition: Int)
    /// Takes the least ranked key of `partition` that `eligible` accepts out of the ranking
    /// and returns it; nil when there is none.
    func takeLeast(partition: Int, where eligible: (Int) -> Bool) -> Int?
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

/// LFU over ``FrequencyLists``, levels being use counts (at most 2^24 − 1, where the heap's
/// priority kept them): a use raises the count; a new key starts at 1, or, when the rule
/// `remembers` (LFU-perfect), at one more than its count before it was evicted.
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
