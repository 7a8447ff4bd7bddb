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
