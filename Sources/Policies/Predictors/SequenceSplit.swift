import TraceStore

/// A seeded split of a trace's sequences into a training part (what learned predictors
/// see) and a held-out test part (what they are evaluated and simulated on).
///
/// Each sequence goes to the test part with probability `testFraction`, decided by a
/// SplitMix64 stream of the seed, so the split depends on nothing but (sequences, seed);
/// both parts are non-empty whenever there are two or more sequences.
public struct SequenceSplit: Sendable, Equatable {
    /// `true` for sequences in the test part, by sequence id.
    public let test: [Bool]
    /// The share of sequences held out.
    public let testFraction: Double

    /// Splits `count` sequences.
    public init(sequences count: Int, testFraction: Double = 0.3, seed: UInt64 = 1) {
        var random = SplitMix64(seed: seed, stream: "sequence-split")
        var test = (0..<count).map { _ in random.uniform() < testFraction }
        if count >= 2 {
            if !test.contains(true) { test[count - 1] = true }
            if !test.contains(false) { test[0] = false }
        }
        self.test = test
        self.testFraction = testFraction
    }

    /// `true` for training sequences, by id.
    public var train: [Bool] { test.map { !$0 } }
    /// Sequences in the test part.
    public var testCount: Int { test.filter { $0 }.count }
}
