import OffloadSim
import Testing

@Suite("Latency histogram")
struct LatencyHistogramTests {
    @Test("values below 1,024 ns are exact and nearest-rank percentiles pick them")
    func exactSmallValues() {
        var histogram = LatencyHistogram()
        for value in 1...100 { histogram.record(Int64(value)) }
        #expect(histogram.quantile(0.5) == 50)
        #expect(histogram.quantile(0.99) == 99)
        #expect(histogram.mean == 50.5)
    }

    @Test("large values come back within 0.1%; mean, minimum and maximum stay exact")
    func largeValues() throws {
        var histogram = LatencyHistogram()
        let values: [Int64] = [183_000, 111_360_123, 4_000_000_000, 7]
        for value in values { histogram.record(value) }
        #expect(histogram.mean == Double(values.reduce(0, +)) / 4)
        #expect(histogram.minimum == 7 && histogram.maximum == 4_000_000_000)
        let median = try #require(histogram.quantile(0.5))
        #expect(abs(median - 183_000) / 183_000 < 0.001)
        let p75 = try #require(histogram.quantile(0.75))
        #expect(abs(p75 - 111_360_123) / 111_360_123 < 0.001)
    }

    @Test("an empty histogram has no mean or percentile")
    func empty() {
        #expect(LatencyHistogram().mean == nil)
        #expect(LatencyHistogram().quantile(0.5) == nil)
    }
}
