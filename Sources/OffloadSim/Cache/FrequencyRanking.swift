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
