import OffloadSim
import Policies
import Testing
import TraceStore

/// The two-layer trace of the on-demand closed-form tests: 2 layers × 4 experts, top-2, one
/// prompt token and three generated ones, each routed to {0, 1} at layer 0 and {2, 3} at
/// layer 1. With ``SimFixtures/profile(hbm:link:)``: attention A = 500 ns, an expert
/// F = 1,000 ns, a copy X = 5,000 + 40,000 = 45,000 ns; no launch overhead.
private func twoLayerTrace() throws -> TraceReader {
    let ids: [UInt16] = [0, 1, 2, 3]
    return try SimFixtures.trace([[(.prefill, ids), (.decode, ids), (.decode, ids), (.decode, ids)]], layers: 2, experts: 4, topK: 2)
}

private func engine(_ execution: ExpertExecution, routerSync: Nanoseconds = 0, expertSync: Nanoseconds = 0, issue: Nanoseconds = 0,
                    copies: Int = 1) -> ServingEngine {
    ServingEngine(name: "test", displayName: "test engine", source: "test", expertExecution: execution,
                  routerSync: HostCost(fixedNs: routerSync), expertSync: HostCost(fixedNs: expertSync), copyIssue: HostCost(fixedNs: issue),
                  copiesPerExpert: copies, bufferSets: 2, groupedKernelLaunches: 5,
                  prioritisesDemand: false)
}

private func simulate(_ engine: ServingEngine, cacheBytes: Int = 0) throws -> SimulationMetrics {
    try SimFixtures.simulate(twoLayerTrace(), model: SimFixtures.model(layers: 2, experts: 4), profile: SimFixtures.profile(),
                             options: SimulationOptions(cacheBytes: cacheBytes, eviction: .lru, engine: engine))
}

@Suite("Engine execution")
struct ServingEngineExecutionTests {
    @Test("moesim's own engine is the default: the streaming closed form, unchanged")
    func moesimEngineIsTheDefault() throws {
        let explicit = try simulate(.moesim)
        #expect(explicit.tpot.mean == 183_000)
        #expect(explicit.hostWaitNs == 0)
    }

    /// A layer-barrier layer: A, both copies back to back (2X), then one grouped kernel over
    /// both experts (2F, launches free here): 500 + 90,000 + 2,000 = 92,500, two layers per token.
    @Test("a layer-barrier engine runs the layer's experts as one kernel after all its copies")
    func layerBarrierWaitsForTheWholeLayer() throws {
        let metrics = try simulate(engine(.layerBarrier))
        #expect(metrics.tpot.mean == 185_000)
        // The compute stream waits from the router's end (500) to the second copy's end (90,500).
        #expect(metrics.stallNs == 4 * 2 * 90_000)
    }

    /// Memory-bound experts without launch costs gain nothing from running at once (the bytes
    /// add up either way): as the layer-barrier layer, 500 + 90,000 + 2,000 per layer.
    @Test("a concurrent-streams engine also waits for the whole layer's copies")
    func concurrentStreamsWaitForTheWholeLayer() throws {
        var concurrent = engine(.concurrentStreams)
        concurrent.expertStreams = 2
        let metrics = try simulate(concurrent)
        #expect(metrics.tpot.mean == 185_000)
        #expect(metrics.stallNs == 4 * 2 * 90_000)
    }

    /// Two copy calls per expert: X = 2 × 5,000 + 40,000 = 50,000; a layer 500 + 100,000 + 2,000.
    @Test("each copy call of an expert pays the link's latency")
    func copyCallsPayLatency() throws {
        #expect(try simulate(engine(.layerBarrier, copies: 2)).tpot.mean == 205_000)
    }

    /// Router ends at 500; the host knows the ids at 10,500 and issues copy 1 at 13,500 (runs to
    /// 58,500) and copy 2 at 16,500 (runs 58,500 to 103,500); the grouped kernel ends at
    /// 105,500. Layer 1 repeats from there: 2 × 105,500 per token.
    @Test("the host's sync on the router and its copy calls delay the layer's copies")
    func hostCostsDelayCopies() throws {
        let metrics = try simulate(engine(.layerBarrier, routerSync: 10_000, issue: 3_000))
        #expect(metrics.tpot.mean == 211_000)
    }

    /// The same schedule with the sync and the copy calls written as operations: priced by the
    /// profile at 10,000 and 3,000 ns it is the run above; at the defaults (5,000 each) the host
    /// knows the ids at 5,500 and issues copies at 10,500 (to 55,500) and 15,500 (55,500 to
    /// 100,500); the kernel ends at 102,500: 2 × 102,500 per token.
    @Test("the hardware profile prices an engine's syncs and copy calls")
    func profilePricesHostOperations() throws {
        var priced = engine(.layerBarrier)
        priced.routerSync = HostCost(syncs: 1)
        priced.copyIssue = HostCost(copyCalls: 1)
        func tpot(_ profile: HardwareProfile) throws -> Double? {
            try SimFixtures.simulate(twoLayerTrace(), model: SimFixtures.model(layers: 2, experts: 4), profile: profile,
                                     options: SimulationOptions(eviction: .lru, engine: priced)).tpot.mean
        }
        var measured = SimFixtures.profile()
        measured.syncAfterKernelNs = 10_000
        measured.copyCallNs = 3_000
        #expect(try tpot(measured) == 211_000)
        #expect(try tpot(SimFixtures.profile()) == 205_000)
    }

    /// Expert 0: sync to 10,500, copy 10,500-55,500, compute to 56,500; expert 1: sync to
    /// 66,500, copy to 111,500, compute to 112,500. Two layers: 225,000 per token.
    @Test("a per-expert host loop copies each expert only when it reaches it, after a sync")
    func perExpertLoopSerialises() throws {
        #expect(try simulate(engine(.perExpertSync, expertSync: 10_000)).tpot.mean == 225_000)
    }

    /// Decode steps hit every expert: per layer A, then per expert a 10,000 ns sync and F:
    /// 500 + 2 × 11,000 = 22,500; the syncs are the only idle time, counted as host wait.
    @Test("with every expert cached, the per-expert loop's syncs are what the compute stream waits for")
    func cachedPerExpertLoopWaitsOnTheHost() throws {
        let metrics = try simulate(engine(.perExpertSync, expertSync: 10_000), cacheBytes: 4_000_000)
        #expect(metrics.tpot.mean == 45_000)
        #expect(metrics.decodeHitRate == 1)
        // 3 decode steps × 4 experts × 10,000, plus the prefill step's waits after its copies arrive (none).
        #expect(metrics.hostWaitNs == 3 * 4 * 10_000)
    }

    /// Every expert resident, one decode token per step routed to 2 of the 4 experts: the
    /// routed grouped kernel reads 2 experts (2F), a capacity dispatch runs all 4 at capacity
    /// 2 × ⌊1.0 × ⌈1/4⌉⌋ = 2 and reads 4 (4F; no FLOPs here). Per token: 2 × (A + 2F) = 5,000
    /// against 2 × (A + 4F) = 9,000.
    @Test("a capacity dispatch runs every expert of the layer, routed or not")
    func capacityDispatchRunsEveryExpert() throws {
        var capacity = engine(.layerBarrier)
        capacity.capacityFactor = 1.0
        func tpot(_ engine: ServingEngine) throws -> Double {
            let run = SimulationRun(source: try twoLayerTrace(), model: SimFixtures.model(layers: 2, experts: 4), profile: SimFixtures.profile(),
                                    options: SimulationOptions(engine: engine))
            return try #require(try run.run(policy: AllResidentPolicy()).metrics.tpot.mean)
        }
        #expect(try tpot(engine(.layerBarrier)) == 5_000)
        #expect(try tpot(capacity) == 9_000)
    }

    @Test("a grouped kernel costs its launches plus each expert's roofline")
    func groupedKernelCost() {
        var profile = SimFixtures.profile()
        profile.launchOverheadNs = 1_000
        let compute = GPUCompute(model: SimFixtures.model(layers: 1, experts: 4), profile: profile)
        #expect(compute.groupedExpertsNanoseconds(layer: 0, shards: [1, 1, 1], launches: 5) == 5 * 1_000 + 3 * 1_000)
        #expect(compute.groupedExpertsNanoseconds(layer: 0, shards: [], launches: 5) == 0)
    }
}
