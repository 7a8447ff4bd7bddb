/// Measured time of a group of experts run together against the number of experts and the
/// tokens each takes: one ``CalibrationTable`` per measured expert count. `moesim gpu
/// calibrate` fills one per model for a grouped kernel (all of the group's experts in one set
/// of launches, as a fused MoE kernel runs a layer's experts: moesim's grouped SwiGLU kernel)
/// and one for experts launched on as many concurrent streams (moesim's per-expert kernels).
public struct GroupedCalibration: Sendable, Equatable {
    /// Expert counts measured, ascending.
    public let expertCounts: [Int]
    /// Per expert count, its time against tokens per expert.
    public let tables: [CalibrationTable]

    /// A calibration from a table per expert count; nil when empty or a count is below 1.
    public init?(_ tables: [Int: CalibrationTable]) {
        guard !tables.isEmpty, tables.keys.allSatisfy({ $0 >= 1 }) else { return nil }
        expertCounts = tables.keys.sorted()
        self.tables = expertCounts.map { tables[$0]! }
    }

    /// The time of `experts` experts taking `tokens` tokens each, ns: the tables of the two
    /// nearest measured expert counts at `tokens`, interpolated linearly in the expert count
    /// (extrapolated from the last two beyond the largest, the smallest's time below it).
    /// O(expert counts + log tokens).
    public func time(experts: Int, tokens: Int) -> Double {
        if experts <= expertCounts[0] || tables.count == 1 { return tables[0].time(tokens: tokens) }
        let upper = expertCounts.firstIndex { $0 >= experts } ?? expertCounts.count - 1
        let lowTime = tables[upper - 1].time(tokens: tokens), highTime = tables[upper].time(tokens: tokens)
        let slope = (highTime - lowTime) / Double(expertCounts[upper] - expertCounts[upper - 1])
        return max(0, lowTime + slope * Double(experts - expertCounts[upper - 1]))
    }
}
