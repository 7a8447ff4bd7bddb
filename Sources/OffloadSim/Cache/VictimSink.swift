/// Where the cache reports the keys it evicts while making room: every victim's key in order
/// (an array, for callers that act on each: the event-driven engine counts the prefetched
/// bytes among them that were never used), or only how many (``VictimCount``, for a
/// layer's on-demand lookup, which prefetches nothing). Generic, so that each use compiles
/// to a plain append or increment.
protocol VictimSink {
    /// Notes that `key` was evicted.
    mutating func record(_ key: Int)
}

/// A count of evictions, the victims' keys dropped.
struct VictimCount: VictimSink {
    /// Evictions so far.
    var count = 0

    mutating func record(_ key: Int) { count += 1 }
}
