import TraceStore

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
