import Testing
@testable import TraceStore

@Suite("Cumulative distribution")
struct CumulativeDistributionTests {
    /// Zipf(1) over `n` indices in a shuffled order, as the parametric generator builds it.
    static func zipf(_ n: Int, seed: UInt64) -> [Double] {
        var random = SplitMix64(seed: seed)
        let order = Array(0..<n).shuffled(using: &random)
        var weights = [Double](repeating: 0, count: n)
        for (rank, index) in order.enumerated() { weights[index] = 1 / Double(rank + 1) }
        var total = 0.0
        return weights.map { total += $0; return total }
    }

    @Test("a draw through the buckets is the whole-table binary search's index for every target",
          arguments: [(1, 16), (8, 4096), (128, 4096), (128, 3), (1000, 64)])
    func bucketsMatchTheWholeSearch(size: Int, buckets: Int) {
        let cumulative = Self.zipf(size, seed: UInt64(size))
        let distribution = CumulativeDistribution(cumulative: cumulative, buckets: buckets)
        let total = cumulative.last!
        var random = SplitMix64(seed: 9)
        var uniforms = (0..<20_000).map { _ in random.uniform() }
        // Targets on and beside every cumulative value and every bucket edge, where rounding bites.
        for value in cumulative { uniforms += [value / total, (value / total).nextDown, (value / total).nextUp] }
        for b in 0...buckets { uniforms += [Double(b) / Double(buckets), (Double(b) / Double(buckets)).nextDown] }
        for u in uniforms where u >= 0 && u < 1 {
            let expected = CumulativeDistribution.search(cumulative, u * total, in: 0, size - 1)
            #expect(distribution.index(uniform: u) == expected, "u = \(u)")
        }
    }

    @Test("flat stretches (zero weights) are skipped as the search skips them")
    func zeroWeights() {
        let cumulative: [Double] = [0, 0, 1, 1, 1, 3, 3, 4]
        let distribution = CumulativeDistribution(cumulative: cumulative, buckets: 8)
        #expect(distribution.index(uniform: 0) == 2)
        #expect(distribution.index(uniform: 0.25) == 5)
        #expect(distribution.index(uniform: 0.5) == 5)
        #expect(distribution.index(uniform: 0.75) == 7)
        #expect(distribution.index(uniform: 0.999) == 7)
    }
}
