import OffloadSim
import Testing
import TraceStore

/// Durations and simulated time stay inside 64-bit nanoseconds whatever the figures (issue 18).
@Suite("Time limits")
struct TimeLimitTests {
    static let clampCases: [(value: Double, expected: Nanoseconds)] = [
        (1.5, 2), (1e30, Units.longestDuration), (.infinity, Units.longestDuration),
        (-5, 0), (-.infinity, 0), (Double(1 << 52) - 10, (1 << 52) - 10),
    ]

    @Test("a duration is rounded up and clamped to 0…2^52 ns, never trapped on", arguments: clampCases)
    func roundUpClamps(value: Double, expected: Nanoseconds) {
        #expect(Units.roundUp(value) == expected)
    }

    @Test("a run whose simulated time passes 2^62 ns stops with an error naming the step")
    func runPastTheLatestTime() throws {
        // 16 GiB experts over a 1e-9 GB/s bus (below what profiles accept): every copy is
        // clamped to 2^52 ns, so the 1,025th copy passes 2^62 ns.
        let tokens = (0..<600).map { t in (phase: Phase.decode, ids: [UInt16(t % 2), UInt16((t + 1) % 2)]) }
        let reader = try SimFixtures.trace([tokens], layers: 2, experts: 2, topK: 1)
        let model = SimFixtures.model(layers: 2, experts: 2, expertBytes: 1 << 34)
        let profile = SimFixtures.profile(link: BusLink(gbps: 1e-9, latencyNs: 0))
        let error = #expect(throws: TraceStoreError.self) {
            _ = try SimFixtures.simulate(reader, model: model, profile: profile)
        }
        #expect(error?.problem.contains("simulated time passed 2^62 ns") == true, "\(String(describing: error))")
        // Two copies of 2^52 ns per step: the 1,024th copy ends at 2^62 ns, and the step's
        // compute after it passes; that is step 511 (steps count from 0).
        #expect(error?.place == "step 511")
    }
}
