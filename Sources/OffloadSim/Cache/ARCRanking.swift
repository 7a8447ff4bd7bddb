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
