import OffloadSim
import Policies
import Testing
import TraceStore

@Suite("Policies against published effects")
struct PublishedEffectsTests {
    static let a6000 = HardwareProfile.preset(named: "rtx-a6000")!

    static func spec(_ name: String, _ edit: (inout PolicySpec) -> Void = { _ in }) -> PolicySpec {
        var spec = PolicySpec.builtIn(named: name)!
        edit(&spec)
        return spec
    }

    @Test("with the oracle predictor and ample bus bandwidth, cross-layer-gate comes within 2% of all-resident")
    func oracleApproachesTheFloor() throws {
        let reader = try PolicyFixtures.qwenSynthetic()
        var ample = Self.a6000
        ample.link = BusLink(gbps: 10_000, latencyNs: 0)
        let gate = try PolicyFixtures.run(Self.spec("cross-layer-gate") { $0.predictor = "oracle" }, reader, profile: ample)
        let floor = try PolicyFixtures.run(Self.spec("all-resident"), reader, profile: ample)
        let (tpot, bound) = (try #require(gate.metrics.tpot.mean), try #require(floor.metrics.tpot.mean))
        #expect(tpot >= bound)
        #expect(tpot <= bound * 1.02)
        #expect(floor.metrics.bytesMoved == 0)
    }

    @Test("at recall 1.0 speculation is exact prefetch: same TPOT, fidelity 1")
    func perfectSpeculationIsExactPrefetch() throws {
        let reader = try PolicyFixtures.qwenSynthetic()
        let speculate = try PolicyFixtures.run(Self.spec("default-vector-speculation") { $0.recall = 1; $0.exactLayers = [] }, reader, profile: Self.a6000)
        let prefetch = try PolicyFixtures.run(Self.spec("cross-layer-gate") { $0.recall = 1 }, reader, profile: Self.a6000)
        #expect(speculate.metrics.routingFidelity == 1)
        #expect(speculate.metrics.tpot.mean == prefetch.metrics.tpot.mean)
        #expect(speculate.metrics.bytesMoved == prefetch.metrics.bytesMoved)
    }

    @Test("at recall r the routing fidelity is r within sampling error", arguments: [0.6, 0.85])
    func fidelityTracksRecall(r: Double) throws {
        let reader = try PolicyFixtures.qwenSynthetic()
        let result = try PolicyFixtures.run(Self.spec("default-vector-speculation") { $0.recall = r; $0.exactLayers = [] }, reader, profile: Self.a6000)
        // 2 × 65 tokens × 47 speculated layers × 8 experts ≈ 49 K draws, weighted by gate weight.
        #expect(abs(result.metrics.routingFidelity - r) < 0.02)
    }

    /// Qwen3-30B-A3B bf16 on the A6000 preset, batch 1, no cache, one layer ahead at recall 0.9.
    /// The published band is 5-14% lower TPOT than on-demand. This model gives about 4%: with the
    /// bus busy 88% of the time, prefetching the next layer can only hide the compute that the
    /// copies did not already overlap, and an oracle prefetcher gains the same ~4% (see README).
    @Test("speculation lowers Qwen3 TPOT against on-demand, by as much as an oracle prefetcher can")
    func speculationAgainstOnDemand() throws {
        let reader = try PolicyFixtures.qwenSynthetic()
        let onDemand = try #require(try PolicyFixtures.run(Self.spec("on-demand"), reader, profile: Self.a6000).metrics.tpot.mean)
        let speculation = try #require(try PolicyFixtures.run(Self.spec("default-vector-speculation"), reader, profile: Self.a6000).metrics.tpot.mean)
        let oracle = try #require(try PolicyFixtures.run(Self.spec("oracle"), reader, profile: Self.a6000).metrics.tpot.mean)
        let gain = 1 - speculation / onDemand
        #expect(gain > 0.03)
        #expect(gain < 0.14)
        #expect(speculation >= oracle * 0.999)
        print("Qwen3 A6000 batch 1 no cache: on-demand \(onDemand / 1e6) ms, speculation r=0.9 \(speculation / 1e6) ms (\(gain * 100)% lower), oracle prefetch \(oracle / 1e6) ms")
    }
}
