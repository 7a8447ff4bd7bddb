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
