import OffloadSim
import Testing
import Policies
import TraceStore

/// A hand-built trace: 2 layers × 4 experts, top-2, one sequence of 1 prompt token and 3
/// generated tokens, each routed to experts {0, 1} at layer 0 and {2, 3} at layer 1.
private func twoLayerTrace() throws -> TraceReader {
    let ids: [UInt16] = [0, 1, 2, 3]
    let tokens: [SimFixtures.Token] = [(.prefill, ids), (.decode, ids), (.decode, ids), (.decode, ids)]
    return try SimFixtures.trace([tokens], layers: 2, experts: 4, topK: 2)
}

@Suite("On-demand closed form")
struct OnDemandClosedFormTests {
    /// Without cache each layer costs A (attention) and then two experts through the double
    /// buffer: copy i takes X = L + S/B; expert i computes for F once copied. Copies run
    /// back to back from the router's end, so the layer takes A + X + max(X, F) + F... which
    /// is A + 2X + F when the bus is the bottleneck (X ≥ F) and A + X + 2F when compute is.
    @Test("TPOT without cache equals the closed form", arguments: [
        // hbm GB/s, bus GB/s, latency ns, expected TPOT ns
        // X = 5,000 + 1e6/25 = 45,000; F = 1e6/1,000 = 1,000; A = 500: 2 × (500 + 90,000 + 1,000)
        (1_000.0, 25.0, Int64(5_000), Int64(183_000)),
        // X = 1e6/1,000 = 1,000; F = 1e6/100 = 10,000; A = 5,000: 2 × (5,000 + 1,000 + 20,000)
        (100.0, 1_000.0, Int64(0), Int64(52_000)),
    ])
    func closedForm(hbm: Double, bus: Double, latency: Int64, expected: Int64) throws {
        let metrics = try SimFixtures.simulate(
            twoLayerTrace(), model: SimFixtures.model(layers: 2, experts: 4),
            profile: SimFixtures.profile(hbm: hbm, link: BusLink(gbps: bus, latencyNs: latency)))
        #expect(metrics.decodeSteps == 3 && metrics.prefillSteps == 1)
        #expect(metrics.tpot.count == 3)
        #expect(metrics.tpot.mean == Double(expected))
        #expect(metrics.tpot.minimum == expected && metrics.tpot.maximum == expected)
        #expect(metrics.ttft.mean == Double(expected))
        #expect(metrics.makespanNs == 4 * expected)
        #expect(metrics.demandBytes == 4 * 4 * 1_000_000)
        #expect(metrics.hitRate == 0)
    }

    @Test("the compute stream's stall is the time it waits for each copy")
    func stallShare() throws {
        let metrics = try SimFixtures.simulate(twoLayerTrace(), model: SimFixtures.model(layers: 2, experts: 4), profile: SimFixtures.profile())
        // Per layer: waits 45,000 for the first copy (router ends at 500, copy at 45,500) and
        // 44,000 for the second (first expert ends at 46,500, copy at 90,500): 89,000 of 91,500.
        #expect(metrics.stallNs == 4 * 2 * 89_000)
        #expect(metrics.stallShare == 89_000.0 / 91_500.0)
        // The bus is busy from each router's end to the second copy's end: 90,000 of 91,500.
        #expect(metrics.busBusyShare == 90_000.0 / 91_500.0)
    }

    @Test("the GPU is busy while an operation runs: attention and the two experts, not the waits")
    func gpuBusyShare() throws {
        let metrics = try SimFixtures.simulate(twoLayerTrace(), model: SimFixtures.model(layers: 2, experts: 4), profile: SimFixtures.profile())
        // Per layer: attention and router 500, then two experts of 1,000 each: 2,500 of 91,500.
        #expect(metrics.computeNs == 4 * 2 * 2_500)
        #expect(metrics.gpuBusyShare == 2_500.0 / 91_500.0)
    }

    @Test("with a cache that holds every expert, only the first token copies and later tokens hit")
    func cachedReuse() throws {
        let metrics = try SimFixtures.simulate(
            twoLayerTrace(), model: SimFixtures.model(layers: 2, experts: 4), profile: SimFixtures.profile(),
            options: SimulationOptions(cacheBytes: 4_000_000, eviction: .lru))
        // Decode: 2 layers × (A + 2F) = 2 × 2,500; prefill: as without cache (the copies are cold).
        #expect(metrics.tpot.mean == 5_000)
        #expect(metrics.ttft.mean == 183_000)
        #expect(metrics.decodeHitRate == 1)
        #expect(metrics.hitRate == 12.0 / 16.0)
        #expect(metrics.demandBytes == 4_000_000)
    }

    @Test("a cache too small for one layer's experts streams the rest through staging and finishes")
    func tinyCacheNeverDeadlocks() throws {
        let metrics = try SimFixtures.simulate(
            twoLayerTrace(), model: SimFixtures.model(layers: 2, experts: 4), profile: SimFixtures.profile(),
            options: SimulationOptions(cacheBytes: 1_000_000, eviction: .lru))
        #expect(metrics.steps == 4)
        #expect(metrics.stagedExperts > 0)
        #expect(metrics.tpot.count == 3)
    }

    @Test("TTFT and TPOT follow each sequence under continuous batching")
    func batchedLatencies() throws {
        let ids: [UInt16] = [0, 1, 2, 3]
        let a: [SimFixtures.Token] = [(.prefill, ids), (.decode, ids)]
        let b: [SimFixtures.Token] = [(.prefill, ids), (.decode, ids), (.decode, ids)]
        let reader = try SimFixtures.trace([a, b], layers: 2, experts: 4, topK: 2)
        let metrics = try SimFixtures.simulate(reader, model: SimFixtures.model(layers: 2, experts: 4), profile: SimFixtures.profile(), batch: 2)
        // One prefill step of both prompts, then two decode steps; every step routes the same
        // two experts per layer, so each takes 183,000 ns (attention reads only weights).
        #expect(metrics.steps == 3)
        #expect(metrics.ttft.count == 2 && metrics.ttft.mean == 183_000)
        #expect(metrics.tpot.count == 3 && metrics.tpot.mean == 183_000)
        #expect(metrics.outputTokens == 5)
    }
}

@Suite("Absent token-layers in the engine")
struct AbsentLayerEngineTests {
    /// Two layers × 4 experts, top-2, one prompt token and three generated ones; the second
    /// generated token lacks layer 1 (format version 2). It has no lookup there, and its step
    /// skips layer 1's experts: A + 2 copies + F at layer 0, only A at layer 1.
    @Test("a layer a token lacks is not looked up, fetched or computed")
    func absentLayerIsSkipped() throws {
        let path = SimFixtures.temporaryFolder() + "/absent.sqlite"
        let shape = ModelShape(name: "hand", layers: 2, experts: 4, topK: 2, expertBytes: [1_000_000, 1_000_000])
        let writer = try TraceWriter(path: path, metadata: TraceMetadata(shape: shape, hasWeights: false, synthetic: false, source: "test", importer: "test"))
        writer.beginSequence(name: "s")
        for (index, phase) in [Phase.prefill, .decode, .decode, .decode].enumerated() {
            try writer.appendToken(phase: phase, ids: [0, 1, 2, 3], absentLayers: index == 2 ? [1] : [])
        }
        _ = try writer.finish()
        let metrics = try SimFixtures.simulate(try TraceReader(path: path), model: SimFixtures.model(layers: 2, experts: 4), profile: SimFixtures.profile())
        #expect(metrics.lookups == 4 * 4 - 2)
        #expect(metrics.layers[1].lookups == 3 * 2)
        // Full steps take 183,000 ns (the closed form above); the short one 91,500 + 500.
        #expect(metrics.tpot.maximum == 183_000 && metrics.tpot.minimum == 92_000)
    }
}

@Suite("Random streams")
struct RandomStreamTests {
    @Test("each component's stream depends on the seed and its name only")
    func streamsAreIndependent() {
        let model = SimFixtures.model(layers: 2, experts: 4)
        let a = Simulation(model: model, profile: SimFixtures.profile(), policy: OnDemandPolicy(), options: SimulationOptions(seed: 7))
        let b = Simulation(model: model, profile: SimFixtures.profile(), policy: OnDemandPolicy(), options: SimulationOptions(seed: 7))
        var first = a.randomStream("predictor")
        var again = b.randomStream("predictor")
        var other = a.randomStream("arrivals")
        let draws = (0..<4).map { _ in first.next() }
        #expect(draws == (0..<4).map { _ in again.next() })
        #expect(draws != (0..<4).map { _ in other.next() })
    }
}
