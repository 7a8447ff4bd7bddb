import OffloadSim
import Testing

@Suite("Grouped-kernel calibration")
struct GroupedCalibrationTests {
    /// 1 expert: 10,000 ns at 1 token, 20,000 at 9; 4 experts: 16,000 and 40,000.
    static let grouped = GroupedCalibration([
        1: CalibrationTable(tokens: [1, 9], nanoseconds: [10_000, 20_000])!,
        4: CalibrationTable(tokens: [1, 9], nanoseconds: [16_000, 40_000])!,
    ])!

    @Test("a measured point is returned as measured")
    func measuredPoint() {
        #expect(Self.grouped.time(experts: 4, tokens: 9) == 40_000)
        #expect(Self.grouped.time(experts: 1, tokens: 1) == 10_000)
    }

    /// 2 experts at 5 tokens: 15,000 (1 expert) and 28,000 (4 experts), one third of the way: 19,333.3.
    @Test("between measured expert counts the time is interpolated in the count, at the tokens")
    func interpolatesInExperts() {
        #expect(abs(Self.grouped.time(experts: 2, tokens: 5) - (15_000 + 13_000.0 / 3)) < 1e-9)
    }

    /// Beyond 4 experts the line through 1 and 4 continues: 8 experts at 1 token, 16,000 + 4 × 2,000.
    @Test("beyond the largest count the last two counts extrapolate, below the smallest its time holds")
    func extrapolates() {
        #expect(Self.grouped.time(experts: 8, tokens: 1) == 24_000)
        let single = GroupedCalibration([2: CalibrationTable(tokens: [1], nanoseconds: [5_000])!])!
        #expect(single.time(experts: 1, tokens: 3) == 5_000 && single.time(experts: 7, tokens: 3) == 5_000)
    }

    @Test("an empty calibration or a count below one is refused")
    func refusals() {
        #expect(GroupedCalibration([:]) == nil)
        #expect(GroupedCalibration([0: CalibrationTable(tokens: [1], nanoseconds: [1])!]) == nil)
    }

    /// 4 experts of 1 token, measured 16,000 ns with 3 launches per expert in the profile; an
    /// engine's 5 launches add 2 × 1,000. Without the table: 5 × 1,000 + 4 × 2,000 ns of roofline.
    @Test("a grouped table replaces the per-expert roofline of a grouped kernel, plus the launches it was not measured with")
    func groupedKernelUsesTheTable() {
        var profile = GPUComputeTests.profile
        let roofline = GPUCompute(model: GPUComputeTests.model, profile: profile)
        #expect(roofline.groupedExpertsNanoseconds(layer: 0, shards: [1, 1, 1, 1], launches: 5) == 5 * 1_000 + 4 * 2_000)
        profile.groupedCalibration["m"] = Self.grouped
        let measured = GPUCompute(model: GPUComputeTests.model, profile: profile)
        #expect(measured.groupedExpertsNanoseconds(layer: 0, shards: [1, 1, 1, 1], launches: 5) == 16_000 + 2 * 1_000)
        // The largest shard sets every expert's tokens: 2 experts at 9 tokens, 20,000 + 20,000 / 3.
        #expect(measured.groupedExpertsNanoseconds(layer: 0, shards: [1, 9], launches: 3) == 26_667)
    }

    /// Five shards on two streams run as waves (1, 9), (1, 1), (4): with the table, 20,000 +
    /// 20,000 / 3 at 2 experts and 9 tokens, 10,000 + 2,000 at 2 and 1, 10,000 + 1,250 × 3 at 1 and 4.
    @Test("a concurrency table times a concurrent-streams layer wave by wave")
    func concurrentStreamsUseTheTable() {
        var profile = GPUComputeTests.profile
        profile.concurrentCalibration["m"] = Self.grouped
        let compute = GPUCompute(model: GPUComputeTests.model, profile: profile)
        #expect(compute.concurrentExpertsNanoseconds(layer: 0, shards: [1, 9, 1, 1, 4], streams: 2) == 26_667 + 12_000 + 13_750)
        // One stream: each shard alone, the single-expert curve.
        #expect(compute.concurrentExpertsNanoseconds(layer: 0, shards: [1, 9], streams: 1) == 10_000 + 20_000)
    }

    /// The same table timed with the GPU alone, 3 launches per expert. At 1,000 ns a launch the
    /// waves decide, as above. At 2,000 (6,000 an expert) four 1-token experts on two streams:
    /// the first wave, 12,000, ends when the host has issued two experts and the second ran
    /// alone, 12,000 + 10,000; the second wave at 22,000 + 12,000 = 24,000 + 10,000. At 10,000
    /// one wave of four: 4 × 30,000 + 10,000, of which all but the wave's 16,000 is launches.
    @Test("a GPU-alone concurrency table times the waves, each no earlier than the host has issued its launches", arguments: [
        (1_000, [1, 9, 1, 1, 4], 2, 52_417, 0),
        (2_000, [1, 1, 1, 1], 2, 34_000, 10_000),
        (10_000, [1, 1, 1, 1], 4, 130_000, 114_000),
    ] as [(Int64, [Int], Int, Int64, Int64)])
    func concurrentStreamsUseTheGPUAloneTable(launchNs: Int64, shards: [Int], streams: Int, expected: Int64, gaps: Int64) {
        var profile = GPUComputeTests.profile
        profile.launchOverheadNs = launchNs
        profile.concurrentGPUCalibration["m"] = Self.grouped
        // An as-issued table beside it is not used.
        profile.concurrentCalibration["m"] = GroupedCalibration([1: CalibrationTable(tokens: [1], nanoseconds: [1])!])!
        let compute = GPUCompute(model: GPUComputeTests.model, profile: profile)
        #expect(compute.usesCalibratedConcurrency)
        let timed = compute.concurrentExperts(layer: 0, shards: shards, streams: streams)
        #expect(timed.ns == expected && timed.launches == gaps)
    }
}
