/// Fits the bus model's two numbers, per-copy latency and sustained bandwidth, to
/// measured copy times: time(bytes) = latency + bytes / bandwidth (DESIGN.md §3).
///
/// The bandwidth is the slope between the two largest copies, where latency is
/// negligible; the latency is the smallest copy's time less its bytes at that bandwidth
/// (floored at 0). O(n) in the points.
public enum BusFit {
    /// (bytes, ns per copy) points, at least two distinct sizes; returns GB/s (bytes/ns) and ns.
    public static func fit(_ points: [(bytes: Int, nanoseconds: Double)]) -> (gbps: Double, latencyNs: Double)? {
        let sorted = points.sorted { $0.bytes < $1.bytes }
        guard let largest = sorted.last, let second = sorted.dropLast().last(where: { $0.bytes < largest.bytes }),
              largest.nanoseconds > second.nanoseconds else { return nil }
        let gbps = Double(largest.bytes - second.bytes) / (largest.nanoseconds - second.nanoseconds)
        let smallest = sorted[0]
        return (gbps, max(0, smallest.nanoseconds - Double(smallest.bytes) / gbps))
    }
}
