/// A small, fast, seedable pseudo-random generator (SplitMix64, Steele, Lea & Flood,
/// "Fast splittable pseudorandom number generators", OOPSLA 2014). Every random
/// component in moesim owns one, seeded from the user's seed and a component label, so
/// that runs are reproducible bit for bit.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator seeded with `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// A generator for one named component: the same (seed, label) gives the same stream.
    public init(seed: UInt64, stream label: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over the label
        for byte in label.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        state = seed ^ hash
        _ = next()
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform integer in 0..<bound (Lemire's nearly divisionless method via the standard library).
    public mutating func int(below bound: Int) -> Int {
        Int.random(in: 0..<bound, using: &self)
    }
}
