import OffloadSim
import Policies
import Testing
import TraceStore

/// A seeded random trace: 3 sequences of 5 prompt and 30 generated tokens, 4 layers × 16
/// experts, top-3, skewed towards low ids so that a small cache both hits and evicts.
private func randomTrace() throws -> TraceReader {
    var random = SplitMix64(seed: 17)
    let sequences: [[SimFixtures.Token]] = (0..<3).map { _ in
        (0..<35).map { position in
            var ids: [UInt16] = []
            for _ in 0..<4 {
                var chosen: [UInt16] = []
                while chosen.count < 3 {
                    let draw = random.next() % 64
                    let id = UInt16(draw < 40 ? draw % 6 : draw % 16)
                    if !chosen.contains(id) { chosen.append(id) }
                }
                ids += chosen
            }
            return (position < 5 ? .prefill : .decode, ids)
        }
    }
    return try SimFixtures.trace(sequences, layers: 4, experts: 16, topK: 3)
}

/// Layers of different expert sizes, so that each layer's copy time differs.
private let model = ModelCost(name: "hand", layers: 4, experts: 16, expertBytes: [1_000_000, 1_500_000, 700_000, 1_200_000],
                              expertParameters: 0, attentionParameters: 0, attentionBytes: 500_000, kvBytesPerToken: 0, queryWidth: 0)

/// Everything a run reports, for comparing two runs.
private func figures(_ metrics: SimulationMetrics) -> [String] {
    [metrics.makespanNs, metrics.stallNs, metrics.decodeStallNs, metrics.computeNs, metrics.busBusyNs, metrics.hostWaitNs,
     Int64(metrics.demandBytes), Int64(metrics.evictions), Int64(metrics.stagedExperts), Int64(metrics.outputTokens)].map(String.init)
        + [metrics.tpot.mean, metrics.tpot.quantile(0.99), metrics.ttft.mean].map { String(describing: $0) }
        + [String(metrics.exactGateMass), String(metrics.totalGateMass)]
        + metrics.layers.map { "\($0)" }
}

@Suite("Closed-form on-demand timing")
struct ClosedFormEquivalenceTests {
    /// (cache MiB, eviction, batch, staging buffers, kernel slowdown under copies, copy calls per expert)
    @Test("The closed form gives the event-driven engine's figures exactly", arguments: [
        (0.0, EvictionPolicy.lru, 1, 2, 1.0, 1),
        (0.0, .lru, 4, 1, 1.37, 1),
        (0.0, .lru, 3, 3, 1.0, 3),
        (4.0, .lru, 1, 2, 1.0, 1),
        (4.0, .fifo, 2, 1, 1.25, 1),
        (6.0, .belady, 1, 2, 1.0, 2),
        (6.0, .lfu, 4, 2, 1.37, 1),
        (5.0, .s3fifo, 2, 2, 1.0, 1),
        (5.0, .arc, 1, 2, 1.0, 1),
        (5.0, .random, 3, 2, 1.0, 1),
        (2.0, .lru, 8, 2, 1.0, 1),
        (60.0, .lru, 2, 2, 1.5, 1),
    ])
    func closedFormEqualsEvents(cacheMiB: Double, eviction: EvictionPolicy, batch: Int, staging: Int, slowdown: Double, copies: Int) throws {
        let reader = try randomTrace()
        var profile = SimFixtures.profile(hbm: 300, link: BusLink(gbps: 25, latencyNs: 3_000))
        profile.kernelSlowdown = slowdown
        var engine = ServingEngine.moesim
        engine.copiesPerExpert = copies
        var options = SimulationOptions(cacheBytes: Int(cacheMiB * 1_048_576), eviction: eviction, stagingBuffers: staging, engine: engine)
        let closed = try SimFixtures.simulate(reader, model: model, profile: profile, options: options, batch: batch)
        options.eventDriven = true
        let events = try SimFixtures.simulate(reader, model: model, profile: profile, options: options, batch: batch)
        #expect(figures(closed) == figures(events))
        #expect(closed.stallNs > 0)
    }

    @Test("On-demand on an exclusive bus is timed in closed form; other runs event by event")
    func closedFormAppliesOnlyWhereExact() {
        let profile = SimFixtures.profile()
        func closedForm(_ policy: any OffloadPolicy, _ options: SimulationOptions = .init(), link: BusLink? = nil) -> Bool {
            var profile = profile
            if let link { profile.link = link }
            return Simulation(model: model, profile: profile, policy: policy, options: options).usesClosedForm
        }
        #expect(closedForm(OnDemandPolicy()))
        #expect(!closedForm(OnDemandPolicy(), SimulationOptions(eventDriven: true)))
        #expect(!closedForm(OnDemandPolicy(), SimulationOptions(timelineSteps: 2)))
        #expect(!closedForm(OnDemandPolicy(), SimulationOptions(engine: .yalis)))
        #expect(!closedForm(OnDemandPolicy(), SimulationOptions(cacheBytes: 1 << 24, admission: .afterBatch)))
        #expect(!closedForm(OnDemandPolicy(), link: BusLink(gbps: 25, latencyNs: 5_000, copyEngines: 2)))
        #expect(!closedForm(CPUFallbackPolicy()))
        #expect(!closedForm(AllResidentPolicy()))
    }
}
