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
    @inlinable public static func roundUp(_ value: Double) -> Nanoseconds {
        Nanoseconds((value - 1e-6).rounded(.up))
    }

    /// Milliseconds as a Double, for reports.
    @inlinable public static func milliseconds(_ ns: Nanoseconds) -> Double { Double(ns) / 1e6 }

    /// Bytes in a MiB.
    public static let mebibyte = 1 << 20
}
