import OffloadSim
import Policies
import Testing
import TraceStore

/// Why ProMoE (chunked prefetch, demand copies first) hits nothing on a bus that its own misses
/// saturate (issue 14: 0.0% on ESFT with a 4 GiB cache): a layer's demand copies take longer
/// than its compute, so the demand queue is never empty; a prefetch moves only between demand
/// copies and is overtaken at every chunk boundary, so when its layer looks it up it is still
/// under way (counted in flight and promoted to demand), never resident. Its slot reservations
/// also double the cache's churn, so the reuse an LRU cache had under on-demand is gone. With
/// slack on the bus the same prefetches arrive in time.
@Suite("Chunked prefetch on a saturated bus")
struct ChunkedPrefetchTests {
    static func promoe() -> PolicySpec {
        var spec = PolicySpec.builtIn(named: "promoe")!
        spec.predictor = "parametric"
        spec.recall = 0.5
        return spec
    }

    @Test("when misses keep the bus busy, every chunked prefetch is found under way and nothing hits")
    func saturatedBusGivesNoHits() throws {
        let reader = try PolicyFixtures.qwenSynthetic()
        let result = try PolicyFixtures.run(Self.promoe(), reader, profile: HardwareProfile.preset(named: "rtx-a6000")!, cacheBytes: 2 << 30)
        #expect(result.metrics.busBusyShare > 0.999)
        #expect(result.metrics.hitRate == 0)
        #expect(result.metrics.inFlightRate > 0.05)
    }

    @Test("with slack on the bus the same prefetches arrive before their layer and hit as often as the predictor is right")
    func slackLetsPrefetchesArrive() throws {
        let reader = try PolicyFixtures.qwenSynthetic()
        var fast = HardwareProfile.preset(named: "rtx-a6000")!
        fast.link = BusLink(gbps: 10_000, latencyNs: 0, chunkBytes: 1 << 20)
        let result = try PolicyFixtures.run(Self.promoe(), reader, profile: fast, cacheBytes: 2 << 30)
        #expect(result.metrics.busBusyShare < 0.1)
        #expect(result.metrics.inFlightRate == 0)
        #expect(abs(result.metrics.hitRate - 0.5) < 0.05)
    }
}
