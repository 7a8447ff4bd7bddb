import OffloadSim
import Testing
import TraceStore

@Suite("GPU compute")
struct GPUComputeTests {
    /// 1,000 GB/s and 100 TFLOP/s at full efficiency, 1 µs per kernel launch, 3 kernels per expert.
    static let profile = HardwareProfile(
        name: "roof", displayName: "roofline test GPU", source: "test", hbmGBps: 1_000, peakTFLOPS: 100, memoryGiB: 80,
        memoryEfficiency: 1, computeEfficiency: 1, launchOverheadNs: 1_000, kernelsPerAttention: 2, kernelsPerExpert: 3,
        link: BusLink(gbps: 25, latencyNs: 0))
    static let model = ModelCost(name: "m", layers: 1, experts: 4, expertBytes: [2_000_000], expertParameters: 1_000_000,
                                 attentionParameters: 10_000_000, attentionBytes: 20_000_000, kvBytesPerToken: 1_000, queryWidth: 1_000)

    @Test("a routed expert is launch + max(bytes / HBM, FLOPs / peak)", arguments: [
        (1, 5_000),            // memory-bound: 2 MB / 1,000 B/ns = 2,000 ns (FLOPs: 2 M / 100,000 per ns = 20 ns) + 3 µs
        (1_000, 23_000),       // compute-bound: 2 G FLOPs / 100,000 per ns = 20,000 ns + 3 µs
    ])
    func expertRoofline(tokens: Int, expected: Int64) {
        let compute = GPUCompute(model: Self.model, profile: Self.profile)
        #expect(compute.expertNanoseconds(layer: 0, tokens: tokens) == expected)
    }

    @Test("experts on concurrent streams take the roofline over their summed work, the longest stream's chain, or the host's issue of every launch", arguments: [
        // Two memory-bound experts (2,000 ns of bytes each, 3 µs of launches): serially 2 × 5,000;
        // on two streams the host issues the second expert's launches by 6,000, which end 8,000
        // (the GPU alone: 3,000 + 4 MB / 1,000 B/ns = 7,000).
        ([1, 1], 1, 10_000), ([1, 1], 2, 8_000),
        // A compute-bound expert (20,000 ns) beside a memory-bound one: serially 23,000 + 5,000; on
        // two streams 3,000 + (2 G + 2 M FLOPs) / 100,000 per ns = 23,020, above either stream's
        // chain and the host's 6,000 of launches + 2,000.
        ([1_000, 1], 1, 28_000), ([1_000, 1], 2, 23_020),
        // Three experts: stream 0's chain is 10,000, but its third expert is issued at 9,000: 11,000;
        // on three streams the host alone decides: 9,000 of launches + 2,000.
        ([1, 1, 1], 2, 11_000), ([1, 1, 1], 3, 11_000),
        // Two compute-bound experts on two streams: the summed FLOPs, 3,000 + 40,000.
        ([1_000, 1_000], 2, 43_000),
    ])
    func concurrentStreams(shards: [Int], streams: Int, expected: Int64) {
        let compute = GPUCompute(model: Self.model, profile: Self.profile)
        #expect(compute.concurrentExpertsNanoseconds(layer: 0, shards: shards, streams: streams) == expected)
    }

    @Test("concurrent experts' launch gaps are the time outside their kernels' spans, or outside their summed work", arguments: [
        ([1, 1], 2, 4_000),           // 8,000 against the GPU's own 7,000: 3,000 + 1,000
        ([1, 1, 1], 3, 5_000),        // 11,000 against 9,000
        ([1_000, 1], 2, 3_000),       // the summed FLOPs decide: one expert's launches
        ([1, 1], 1, 6_000),           // one stream: every expert's launches, as the serial timeline has them
    ])
    func concurrentLaunchGaps(shards: [Int], streams: Int, expected: Int64) {
        let compute = GPUCompute(model: Self.model, profile: Self.profile)
        #expect(compute.concurrentExperts(layer: 0, shards: shards, streams: streams).launches == expected)
    }

    /// The host issuing each launch in 2,000 ns (a framework's eager op) rather than the
    /// profile's 1,000: two 1-token experts on two streams start at 6,000 and 12,000, the second
    /// ending at 14,000, while each stream's chain keeps the profile's launch gap.
    @Test("a framework's slower issue of each launch bounds a concurrent layer by the host")
    func concurrentStreamsUnderAFrameworksIssue() {
        let compute = GPUCompute(model: Self.model, profile: Self.profile)
        #expect(compute.concurrentExperts(layer: 0, shards: [1, 1], streams: 2, hostLaunchNs: 2_000).ns == 14_000)
        #expect(compute.concurrentExperts(layer: 0, shards: [1, 1], streams: 2, hostLaunchNs: 1_000).ns == 8_000)
        #expect(compute.concurrentExperts(layer: 0, shards: [1_000, 1_000], streams: 2, hostLaunchNs: 2_000).ns == 43_000)
    }

    /// With 500 ns a call between streams, two 1-token experts on two streams: the host records
    /// the fork (500), stream 0 waits for it (1,000) and its expert's launches are issued by
    /// 4,000; stream 1 waits (4,500) and its launches end at 7,500, its kernel at 9,500; the two
    /// joins (a record and a wait each) are issued by 9,500 too. The kernels run 4,000 of it.
    @Test("a profile's calls between streams fork and join a concurrent layer on the host")
    func concurrentStreamsForkAndJoin() {
        var profile = Self.profile
        profile.streamEventNs = 500
        let timed = GPUCompute(model: Self.model, profile: profile).concurrentExperts(layer: 0, shards: [1, 1], streams: 2)
        #expect(timed.ns == 9_500 && timed.launches == 5_500)
        // Three experts on one stream: the serial 15,000 plus the fork's record and wait before it.
        #expect(GPUCompute(model: Self.model, profile: profile).concurrentExperts(layer: 0, shards: [1, 1, 1], streams: 1).ns == 16_000)
    }

    /// A measured expert of 5,000 ns (its launches inside it) at 1 token, 3,000 ns of launches
    /// to issue: on one stream the serial engine's 2 × 5,000; on two, the second starts when the
    /// host starts issuing it, at 3,000, and ends at 8,000. Issued through a framework at 3,000
    /// ns a launch, each expert waits for its 9,000 of issue: 18,000, 8,000 of it without a kernel.
    @Test("with a measured expert table, concurrent experts take its times, one stream the serial sum")
    func concurrentStreamsWithAnExpertTable() {
        var profile = Self.profile
        profile.expertCalibration["m"] = CalibrationTable(tokens: [1, 8], nanoseconds: [5_000, 12_000])
        let compute = GPUCompute(model: Self.model, profile: profile)
        let one = compute.concurrentExperts(layer: 0, shards: [1, 1], streams: 1)
        #expect(one.ns == 2 * compute.expertNanoseconds(layer: 0, tokens: 1) && one.launches == 0)
        let two = compute.concurrentExperts(layer: 0, shards: [1, 1], streams: 2)
        #expect(two.ns == 8_000 && two.launches == 0)
        let framework = compute.concurrentExperts(layer: 0, shards: [1, 1], streams: 2, hostLaunchNs: 3_000)
        #expect(framework.ns == 18_000 && framework.launches == 8_000)
    }

    /// The host roofline at the profile's defaults (100 GB/s, 2 TFLOP/s, 20 µs a call): 2 MB take
    /// 20,000 ns; a table measured on 2.2 MB experts gives 50 µs at 1 token and 90 µs at 5.
    @Test("a host expert table times CPU experts of its model and size; experts more than a third off its size keep the roofline", arguments: [
        (2_200_000, 1, 70_000), (2_200_000, 3, 90_000), (2_200_000, 9, 150_000),   // 20 µs + the table (extrapolated past 5)
        (1_400_000, 1, 40_000),   // 2 MB is 1.43 times the timed size: 20 µs + the roofline's 20 µs
        (3_000_000, 1, 40_000),   // 2 MB is 0.67 of 3 MB: the roofline
    ] as [(Int, Int, Int64)])
    func hostExpertTable(timedBytes: Int, tokens: Int, expected: Int64) throws {
        var profile = Self.profile
        let table = try #require(CalibrationTable(tokens: [1, 5], nanoseconds: [50_000, 90_000]))
        profile.hostExpertCalibration["m"] = HostExpertCalibration(table: table, expertBytes: timedBytes, kernel: "test kernel")
        let compute = GPUCompute(model: Self.model, profile: profile)
        #expect(compute.cpuExpertNanoseconds(layer: 0, tokens: tokens) == expected)
        #expect(compute.usesCalibratedHostExperts == (timedBytes == 2_200_000))
        var other = profile
        other.hostExpertCalibration = ["another-model": profile.hostExpertCalibration["m"]!]
        #expect(GPUCompute(model: Self.model, profile: other).cpuExpertNanoseconds(layer: 0, tokens: tokens) == 40_000)
    }

    @Test("attention reads its weights and the KV cache and pays its launches")
    func attention() {
        let compute = GPUCompute(model: Self.model, profile: Self.profile)
        // 20 MB weights + 4,000 context tokens × 1,000 B = 24 MB → 24,000 ns; FLOPs 2 × 10 M × 4 + 4 × 4,000 × 1,000 = 96 M → 960 ns.
        #expect(compute.attentionNanoseconds(tokens: 4, kvTokens: 4_000, scorePairs: 4_000) == 26_000)
    }

    @Test("a calibrated table replaces the roofline for its model, interpolating between points")
    func calibratedTable() {
        var profile = Self.profile
        profile.expertCalibration["m"] = CalibrationTable(tokens: [1, 8], nanoseconds: [100, 800])
        let compute = GPUCompute(model: Self.model, profile: profile)
        #expect(compute.usesCalibratedExperts)
        #expect(compute.expertNanoseconds(layer: 0, tokens: 4) == 400)
        #expect(compute.expertNanoseconds(layer: 0, tokens: 16) == 1_600)
        #expect(compute.expertNanoseconds(layer: 0, tokens: 1) == 100)
    }

    /// The table measured bf16 experts of 2 MB; stored in fp32 they read 4 MB: the roofline,
    /// 3 µs of launches + 4,000 ns, applies to them, and to no other kind of table either.
    @Test("a calibrated table does not time experts stored in another type than the bf16 it measured")
    func calibratedTableNeedsItsBytes() {
        var profile = Self.profile
        profile.expertCalibration["m"] = CalibrationTable(tokens: [1, 8], nanoseconds: [100, 800])
        profile.groupedCalibration["m"] = GroupedCalibration([1: CalibrationTable(tokens: [1], nanoseconds: [100])!])!
        profile.concurrentCalibration["m"] = GroupedCalibration([1: CalibrationTable(tokens: [1], nanoseconds: [100])!])!
        var fp32 = Self.model
        fp32.expertBytes = [4_000_000]
        let compute = GPUCompute(model: fp32, profile: profile)
        #expect(!compute.usesCalibratedExperts && !compute.usesCalibratedGroups && !compute.usesCalibratedConcurrency)
        #expect(compute.expertNanoseconds(layer: 0, tokens: 1) == 7_000)
        #expect(GPUCompute(model: Self.model, profile: profile).usesCalibratedGroups)
    }

    /// A measured time was taken with kernels queued back to back: its gaps are not the profile's
    /// launch time, so only launches the model adds beyond the measured ones count as gaps.
    @Test("an operation a calibrated table times holds no launch gaps but the launches added to it")
    func calibratedLaunchGaps() {
        let roofline = GPUCompute(model: Self.model, profile: Self.profile)
        #expect(roofline.expertLaunchNanoseconds == 3_000 && roofline.groupedLaunchNanoseconds(launches: 5) == 5_000)
        #expect(roofline.attention(tokens: 4, kvTokens: 4_000, scorePairs: 4_000).launches == 2_000)
        var profile = Self.profile
        profile.expertCalibration["m"] = CalibrationTable(tokens: [1, 8], nanoseconds: [100, 800])
        profile.groupedCalibration["m"] = GroupedCalibration([1: CalibrationTable(tokens: [1], nanoseconds: [100])!])!
        profile.streamCalibration = CalibrationTable(tokens: [1_000, 100_000_000], nanoseconds: [1_000, 100_000])
        let measured = GPUCompute(model: Self.model, profile: profile)
        #expect(measured.expertLaunchNanoseconds == 0)
        // 5 launches where the table measured 3: the 2 added.
        #expect(measured.groupedLaunchNanoseconds(launches: 5) == 2_000)
        // 24 MB streamed in ~24,000 ns beats 2,000 + 960 ns of launches and FLOPs: the table decides, no gaps.
        #expect(measured.attention(tokens: 4, kvTokens: 4_000, scorePairs: 4_000).launches == 0)
        // 1,000 tokens: 200,000 ns of FLOPs after the launches beat the table: the launches are gaps.
        #expect(measured.attention(tokens: 1_000, kvTokens: 4_000, scorePairs: 4_000).launches == 2_000)
    }

    /// moesim's CUDA-core streaming kernel grows with a step's tokens; the one-token streaming
    /// table is scaled by the model's measured attention table, and a single token is not.
    @Test("a measured attention-against-tokens table scales the streamed attention of a step of several tokens")
    func attentionTokenTable() {
        var profile = Self.profile
        profile.streamCalibration = CalibrationTable(tokens: [1_000, 100_000_000], nanoseconds: [1_000, 100_000])
        let plain = GPUCompute(model: Self.model, profile: profile)
        profile.attentionTokenCalibration["m"] = CalibrationTable(tokens: [1, 4, 16], nanoseconds: [10_000, 25_000, 70_000])
        let scaled = GPUCompute(model: Self.model, profile: profile)
        let decode = plain.attention(tokens: 1, kvTokens: 4_000, scorePairs: 4_000)
        #expect(scaled.attention(tokens: 1, kvTokens: 4_000, scorePairs: 4_000) == decode)
        // 4 tokens: the streamed time × 25,000 / 10,000.
        let streamed = plain.attention(tokens: 4, kvTokens: 4_000, scorePairs: 4_000)
        #expect(streamed.launches == 0)
        let bytes = Self.model.attentionBytes + 4_000 * Self.model.kvBytesPerToken
        let expected = Units.roundUp(profile.streamCalibration!.time(tokens: bytes) * 25_000 / 10_000)
        #expect(scaled.attention(tokens: 4, kvTokens: 4_000, scorePairs: 4_000).ns == expected)
        // Another model's table leaves this one's attention alone.
        profile.attentionTokenCalibration = ["other": CalibrationTable(tokens: [1, 4], nanoseconds: [10_000, 40_000])!]
        #expect(GPUCompute(model: Self.model, profile: profile).attention(tokens: 4, kvTokens: 4_000, scorePairs: 4_000) == streamed)
    }

    @Test("a table with descending token counts is refused")
    func badTable() {
        #expect(CalibrationTable(tokens: [8, 1], nanoseconds: [1, 2]) == nil)
        #expect(CalibrationTable(tokens: [1, 2], nanoseconds: [1]) == nil)
    }

    @Test("Qwen3-30B-A3B's bf16 expert is 9.44 MB and the preset supplies its attention")
    func presetCosts() throws {
        let preset = try #require(ModelPreset.named("qwen3-30b-a3b"))
        let cost = try ModelCost.resolve(shape: preset.shape(), preset: preset)
        #expect(cost.expertBytes[0] == 9_437_184)
        #expect(cost.attentionParameters == 18_874_368 + 2048 * 128)
        #expect(cost.assumptions.isEmpty)
    }
}
