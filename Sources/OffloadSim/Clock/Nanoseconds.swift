/// Simulated time and durations, in integer nanoseconds.
///
/// Integer time makes every run exact and deterministic; 2^63 ns is 292 years.
public typealias Nanoseconds = Int64

/// Unit conversions used throughout the model.
///
/// Bandwidths are in GB/s with GB = 10^9 bytes, so 1 GB/s is exactly 1 byte/ns.
public enum Units {
    /// Nanoseconds to move `bytes` at `gbps` GB/s, rounded up to a whole nanosecond.
    @inlinable public static func transferNanoseconds(bytes: Int, gbps: Double) -> Nanoseconds {
        roundUp(Double(bytes) / gbps)
    }

    /// `value` ns rounded up, ignoring floating-point noise below a millionth of a nanosecond.
    /// Clamped to 0…``longestDuration`` so that no figure, however far outside the accepted
    /// ranges, traps on conversion; accepted inputs stay far below the bound (a 16 GiB copy
    /// at 0.001 GB/s takes 1.7 × 10^13 ns).
    @inlinable public static func roundUp(_ value: Double) -> Nanoseconds {
        let rounded = (value - 1e-6).rounded(.up)
        guard rounded < Double(longestDuration) else { return longestDuration }
        return rounded > 0 ? Nanoseconds(rounded) : 0
    }

    /// The longest single duration: 2^52 ns (52 days).
    public static let longestDuration: Nanoseconds = 1 << 52
    /// The latest simulated time a run may reach: 2^62 ns (146 years). A run stops with an
    /// error past it, so that sums of durations cannot overflow 64 bits.
    public static let latestTime: Nanoseconds = 1 << 62
    /// Bytes a run may move before it stops with an error: 2^62. A step adds at most twice
    /// the model's routed expert bytes (`ValidRange.routedExpertBytes`, 2^52), so the
    /// 64-bit counters cannot overflow between the checks after each step.
    public static let largestByteCount = 1 << 62

    /// Milliseconds as a Double, for reports.
    @inlinable public static func milliseconds(_ ns: Nanoseconds) -> Double { Double(ns) / 1e6 }

    /// Bytes in a MiB.
    public static let mebibyte = 1 << 20
}
