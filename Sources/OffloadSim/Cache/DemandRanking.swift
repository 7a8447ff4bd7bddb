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
