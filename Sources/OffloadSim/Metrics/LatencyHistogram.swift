/// Latency samples in bounded memory, for percentiles over runs of any length.
///
/// Log-linear buckets (the HdrHistogram layout, Tene 2012): values below 1,024 ns are
/// exact; above, each power of two is split into 1,024 buckets, so a reported percentile
/// is within 0.1% of the true sample. Mean, minimum and maximum are exact. Recording is
/// O(1); a percentile is O(buckets). Memory is fixed (about 430 KiB).
public struct LatencyHistogram: Sendable {
    private static let subBits = 10
    private static let sub = 1 << subBits
    private var counts: [UInt64]
    /// Samples recorded.
    public private(set) var count: UInt64 = 0
    /// Sum of all samples, ns.
    public private(set) var sum: Double = 0
    /// Smallest sample, ns.
    public private(set) var minimum: Nanoseconds = .max
    /// Largest sample, ns.
    public private(set) var maximum: Nanoseconds = 0

    /// An empty histogram.
    public init() { counts = Array(repeating: 0, count: Self.sub * (64 - Self.subBits + 1)) }

    /// Adds a sample of `value` ns (negative values count as 0).
    public mutating func record(_ value: Nanoseconds, weight: UInt64 = 1) {
        let v = max(value, 0)
        counts[Self.bucket(v)] += weight
        count += weight
        sum += Double(v) * Double(weight)
        minimum = min(minimum, v)
        maximum = max(maximum, v)
    }

    /// Mean, ns; nil without samples.
    public var mean: Double? { count == 0 ? nil : sum / Double(count) }

    /// The nearest-rank `p`-quantile (0 < p ≤ 1), ns: the middle of the bucket holding the
    /// sample of rank ⌈p × count⌉, clamped to the exact minimum and maximum; nil without samples.
    public func quantile(_ p: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = max(UInt64((p * Double(count)).rounded(.up)), 1)
        var seen: UInt64 = 0
        for (index, n) in counts.enumerated() where n > 0 {
            seen += n
            if seen >= rank {
                let (low, width) = Self.range(index)
                return min(max(Double(low) + Double(width - 1) / 2, Double(minimum)), Double(maximum))
            }
        }
        return Double(maximum)
    }

    static func bucket(_ value: Nanoseconds) -> Int {
        guard value >= Nanoseconds(sub) else { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount
        let shift = exponent - subBits
        return sub + shift * sub + Int((value >> shift) & Nanoseconds(sub - 1))
    }

    static func range(_ index: Int) -> (low: Int64, width: Int64) {
        guard index >= sub else { return (Int64(index), 1) }
        let shift = (index - sub) / sub
        let mantissa = Int64((index - sub) % sub) | Int64(sub)
        return (mantissa << shift, Int64(1) << shift)
    }
}
