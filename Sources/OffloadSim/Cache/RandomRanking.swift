import TraceStore

/// The random rule over its partition's resident keys: a victim is the first eligible key from
/// a seeded random index on (wrapping), taken out by swapping the last key into its place.
/// ``ExpertCache``'s own calls (``least(where:)``, ``remove(_:)``, ``enter(_:partition:)``) and its
/// raw on-demand lookup both go through it.
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
        guard let victim = least(where: eligible) else { return nil }
        remove(victim)
        return victim
    }

    /// The first key `eligible` accepts from a random index on (one draw when there are keys), or nil.
    @inline(__always)
    func least(where eligible: (Int) -> Bool) -> Int? {
        let count = keys.pointee.count
        guard count > 0 else { return nil }
        let start = Int(random.pointee.next() % UInt64(count))
        return keys.pointee.withUnsafeBufferPointer { keys -> Int? in
            for step in 0..<count {
                let key = Int(keys[(start + step) % count])
                if eligible(key) { return key }
            }
            return nil
        }
    }

    /// Takes `key` (listed) out: the last key takes its index.
    @inline(__always)
    func remove(_ key: Int) {
        let at = Int(index[key])
        let last = keys.pointee.removeLast()
        if Int(last) != key {
            keys.pointee[at] = last
            index[Int(last)] = Int32(at)
        }
        index[key] = -1
    }
}
