import OffloadSim
import Policies
import Testing
import TraceStore

/// Hand-computed cases: 2 layers × 4 experts, top-2, experts of 1 MB; the hand profile reads
/// HBM at 1,000 GB/s (an expert computes in 1,000 ns, attention in 500 ns) and copies at
/// 25 GB/s with 5 µs latency (45,000 ns per expert).
@Suite("Policy mechanisms")
struct MechanismTests {
    static let profile = HardwareProfile(
        name: "hand", displayName: "hand-computed GPU", source: "test", hbmGBps: 1_000, peakTFLOPS: 100, memoryGiB: 80,
        memoryEfficiency: 1, computeEfficiency: 1, launchOverheadNs: 0, link: BusLink(gbps: 25, latencyNs: 5_000),
        hostMemoryGBps: 100, hostTFLOPS: 100, hostExpertOverheadNs: 20_000)
    static let model = ModelCost(name: "hand", layers: 2, experts: 4, expertBytes: [1_000_000, 1_000_000], expertParameters: 0,
                                 attentionParameters: 0, attentionBytes: 500_000, kvBytesPerToken: 0, queryWidth: 0)

    @Test("fiddler computes every miss on the CPU: 20 µs + 1 MB / 100 GB/s each, serially")
    func cpuFallback() throws {
        let reader = try PolicyFixtures.trace([[[0, 1, 2, 3], [0, 1, 2, 3]]], layers: 2, experts: 4, topK: 2)
        let result = try PolicyFixtures.run(PolicySpec.builtIn(named: "fiddler")!, reader, profile: Self.profile, model: Self.model)
        // Per layer: attention 500, then two CPU experts of 30,000 ns back to back; the GPU merges at no cost.
        #expect(result.metrics.tpot.mean == Double(2 * (500 + 60_000)))
        #expect(result.metrics.cpuExperts == 8)
        #expect(result.metrics.bytesMoved == 0)
    }

    @Test("hobbit fetches a miss with a small share of the gate weight as a low-precision copy")
    func lowPrecision() throws {
        let reader = try PolicyFixtures.trace([[[0, 1, 2, 3]]], layers: 2, experts: 4, topK: 2, weights: [0.95, 0.05, 0.95, 0.05])
        let result = try PolicyFixtures.run(PolicySpec.builtIn(named: "hobbit")!, reader, profile: Self.profile, model: Self.model,
                                            cacheBytes: 4_000_000)
        // Experts 1 and 3 carry 5% of their token's weight: int4 copies of 4.25/16 of the bytes.
        #expect(result.metrics.lowPrecisionExperts == 2)
        #expect(result.metrics.demandBytes == 2 * (1_000_000 + 265_625))
        #expect(abs(result.metrics.routingFidelity - 0.95) < 1e-3)
    }

    @Test("resident-first order computes cached experts while the misses load")
    func residentFirst() throws {
        // A cache of two experts per layer: token 1 leaves {0, 1} at layer 0 and {2, 3} at layer 1;
        // token 2 needs {0, 2} at both layers.
        let reader = try PolicyFixtures.trace([[[0, 1, 2, 3], [0, 2, 0, 2]]], layers: 2, experts: 4, topK: 2)
        final class ResidentFirst: OffloadPolicy {
            let name = "resident-first test"
            var expertOrder: ExpertOrder { .residentFirst }
        }
        let options = SimulationOptions(cacheBytes: 4_000_000, eviction: .lru, partitioned: true)
        let ascending = try SimulationRun(source: reader, model: Self.model, profile: Self.profile, options: options).run(policy: OnDemandPolicy()).metrics
        let reordered = try SimulationRun(source: reader, model: Self.model, profile: Self.profile, options: options).run(policy: ResidentFirst()).metrics
        // Layer 0: 0 is cached and first either way, 2 arrives at 45,000 after the router.
        // Layer 1: 0 misses, 2 is cached: ascending waits for 0 then runs both (2,000 after
        // the copy); resident-first runs 2 during the copy (1,000 after it).
        let layerZero: Double = 500 + 45_000 + 1_000
        #expect(ascending.tpot.mean == layerZero + 500 + 45_000 + 2_000)
        #expect(reordered.tpot.mean == layerZero + 500 + 45_000 + 1_000)
    }

    @Test("all-resident moves nothing and never stalls")
    func allResident() throws {
        let reader = try PolicyFixtures.trace([[[0, 1, 2, 3], [1, 2, 0, 3]]], layers: 2, experts: 4, topK: 2)
        let result = try PolicyFixtures.run(PolicySpec.builtIn(named: "all-resident")!, reader, profile: Self.profile, model: Self.model)
        #expect(result.metrics.tpot.mean == Double(2 * (500 + 2 * 1_000)))
        #expect(result.metrics.stallNs == 0 && result.metrics.bytesMoved == 0)
        #expect(result.metrics.hitRate == 1)
    }
}
