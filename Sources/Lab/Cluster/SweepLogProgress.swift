/// A sweep's progress as its log last reported it: the non-terminal progress lines
/// `sweep: 12/32 points, 0.8 points/s, ETA 25 s` that `moesim sweep` prints every few
/// seconds, and its closing line `sweep '…' …: 32 points computed, …`.
public struct SweepLogProgress: Sendable, Equatable {
    /// Points done in the run that wrote the line.
    public var done: Int
    /// Points that run set out to compute.
    public var total: Int
    /// Points per second.
    public var rate: Double
    /// Whether the run printed its closing line.
    public var finished: Bool

    /// The last progress the text reports, or nil when it reports none.
    public init?(log text: Substring) {
        var found: SweepLogProgress?
        for line in text.split(whereSeparator: \.isNewline).reversed() {
            if line.hasPrefix("sweep '") && line.contains(" points computed, ") {
                found = SweepLogProgress(done: 0, total: 0, rate: 0, finished: true)
                break
            }
            guard line.hasPrefix("sweep: ") else { continue }
            let words = line.dropFirst(7).split(separator: " ")
            let counts = words.first?.split(separator: "/") ?? []
            guard words.count >= 3, counts.count == 2, let done = Int(counts[0]), let total = Int(counts[1]),
                  let rate = Double(words[2]) else { continue }
            found = SweepLogProgress(done: done, total: total, rate: rate, finished: false)
            break
        }
        guard let found else { return nil }
        self = found
    }

    private init(done: Int, total: Int, rate: Double, finished: Bool) {
        self.done = done
        self.total = total
        self.rate = rate
        self.finished = finished
    }
}
