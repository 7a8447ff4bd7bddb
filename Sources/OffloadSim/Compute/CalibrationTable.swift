/// A measured cost curve: time against routed tokens, from `moesim gpu calibrate`.
///
/// Between measured points the time is interpolated linearly; below the first point it
/// is the first point's time; beyond the last it extends the last segment's slope.
/// Lookup is O(log n) in the number of points.
public struct CalibrationTable: Sendable, Equatable {
    /// Token counts measured, ascending.
    public let tokens: [Int]
    /// Measured time at each token count, ns.
    public let nanoseconds: [Double]

    /// A table; `tokens` must be ascending and as long as `nanoseconds`.
    public init?(tokens: [Int], nanoseconds: [Double]) {
        guard !tokens.isEmpty, tokens.count == nanoseconds.count,
              zip(tokens, tokens.dropFirst()).allSatisfy({ $0 < $1 }),
              nanoseconds.allSatisfy({ $0 >= 0 && $0.isFinite })
        else { return nil }
        self.tokens = tokens
        self.nanoseconds = nanoseconds
    }

    /// Interpolated time for `count` tokens, ns.
    public func time(tokens count: Int) -> Double {
        if count <= tokens[0] || tokens.count == 1 { return nanoseconds[0] }
        var low = 0
        var high = tokens.count - 1
        if count >= tokens[high] {
            low = high - 1
        } else {
            while high - low > 1 {
                let mid = (low + high) / 2
                if tokens[mid] <= count { low = mid } else { high = mid }
            }
        }
        let slope = (nanoseconds[low + 1] - nanoseconds[low]) / Double(tokens[low + 1] - tokens[low])
        return max(0, nanoseconds[low] + slope * Double(count - tokens[low]))
    }
}
