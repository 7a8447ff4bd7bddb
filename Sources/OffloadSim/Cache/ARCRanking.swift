/// ARC over its partition's ``ARCLists``, through one ``ARCLists/Frame`` for the layer: a hit
/// moves the key to T2, a miss adapts the target or trims the ghosts before any eviction,
/// REPLACE picks the victim.
struct ARCRanking: DemandRanking {
    let lists: ARCLists.Frame

    @inline(__always)
    func touch(_ key: Int, partition: Int) { lists.hit(key) }

    @inline(__always)
    func prepareMiss(_ key: Int, partition: Int) { lists.prepareMiss(key) }

    @inline(__always)
    func enter(_ key: Int, partition: Int) { lists.insert(key) }

    @inline(__always)
    func takeLeast(partition: Int, where eligible: (Int) -> Bool) -> Int? {
        lists.evict { !eligible($0) }
    }
}
