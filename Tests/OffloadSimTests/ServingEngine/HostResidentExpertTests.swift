import OffloadSim
import Testing
import TraceStore

/// 2 layers × 4 experts, top-2, one prompt token and three generated ones, each routed to
/// `first` at layer 0 and `second` at layer 1. With ``SimFixtures/profile(hbm:link:)``:
/// attention A = 500 ns, an expert F = 1,000 ns on the GPU and 1,000,000 B / 100 GB/s =
/// 10,000 ns on the host CPU (the profile's default host, no FLOPs), a copy of n experts
/// 5,000 + n × 40,000 ns; no launch overhead.
private func trace(first: [UInt16] = [0, 1], second: [UInt16] = [2, 3]) throws -> TraceReader {
    let ids = first + second
    return try SimFixtures.trace([[(.prefill, ids), (.decode, ids), (.decode, ids), (.decode, ids)]], layers: 2, experts: 4, topK: 2)
}

/// A llama.cpp-like engine: a layer barrier, experts on the CPU below `cpuBelow` tokens, a
/// fixed per-layer CPU cost (nil: the profile's per-expert overhead), copies by id runs.
private func engine(cpuBelow: Int, cpuLayer: HostCost? = HostCost(fixedNs: 3_000), hostLayers: Int? = nil, runs: Bool = true,
                    splitSync: HostCost = .none) -> ServingEngine {
    ServingEngine(name: "host-experts", displayName: "test engine", source: "test", expertExecution: .layerBarrier, splitSync: splitSync,
                  copiesPerExpert: 1, bufferSets: 1, groupedKernelLaunches: 5, cpuExpertsBelowTokens: cpuBelow, cpuLayer: cpuLayer,
                  hostExpertLayers: hostLayers, copiesIDRuns: runs, prioritisesDemand: false)
}

private func simulate(_ engine: ServingEngine, trace reader: TraceReader? = nil) throws -> SimulationMetrics {
    try SimFixtures.simulate(reader ?? trace(), model: SimFixtures.model(layers: 2, experts: 4), profile: SimFixtures.profile(),
                             options: SimulationOptions(eviction: .lru, engine: engine))
}

@Suite("Engines with experts in host memory")
struct HostResidentExpertTests {
    /// Every step has one token, below 32: per layer A, then on the CPU the layer's cost and
    /// two experts one after the other: 500 + 3,000 + 2 × 10,000 = 23,500; two layers a token.
    @Test("a step below the engine's threshold computes its experts on the CPU, paying the layer's cost once")
    func smallStepsComputeOnTheCPU() throws {
        let metrics = try simulate(engine(cpuBelow: 32))
        #expect(metrics.tpot.mean == 47_000)
        #expect(metrics.cpuExperts == 4 * 2 * 2)
        #expect(metrics.cpuNs == 4 * 2 * 23_000)
        #expect(metrics.bytesMoved == 0)
    }

    /// Without a per-layer cost each CPU expert pays the profile's 20,000 ns overhead:
    /// 500 + 2 × 30,000 = 60,500 a layer.
    @Test("without a per-layer cost each CPU expert pays the profile's overhead")
    func perExpertOverheadWithoutALayerCost() throws {
        #expect(try simulate(engine(cpuBelow: 32, cpuLayer: nil)).tpot.mean == 121_000)
    }

    /// At the threshold the step goes to the GPU: experts {0, 1} and {2, 3} are runs, one copy
    /// each of two experts (5,000 + 80,000), then the grouped kernel (2F): 500 + 85,000 + 2,000.
    @Test("a step at the threshold copies each run of consecutive expert ids as one copy")
    func largeStepsCopyRuns() throws {
        let metrics = try simulate(engine(cpuBelow: 1))
        #expect(metrics.tpot.mean == 175_000)
        #expect(metrics.cpuExperts == 0)
        #expect(metrics.bytesMoved == 4 * 2 * 2 * 1_000_000)
    }

    /// Experts copied one by one pay the latency twice: 500 + 2 × 45,000 + 2,000 a layer.
    @Test("copied expert by expert, the same step pays each copy's latency")
    func expertCopiesPayEachLatency() throws {
        #expect(try simulate(engine(cpuBelow: 1, runs: false)).tpot.mean == 185_000)
    }

    /// The host syncs 7,000 ns between the layer's weight tensors, the GPU idle: each layer
    /// 500 + 85,000 + 7,000 + 2,000 = 94,500, of which 7,000 waits on the host.
    @Test("a layer copied to the GPU waits out the engine's syncs between its weight tensors")
    func splitSyncsDelayTheGroupedKernel() throws {
        let metrics = try simulate(engine(cpuBelow: 1, splitSync: HostCost(fixedNs: 7_000)))
        #expect(metrics.tpot.mean == 189_000)
        #expect(metrics.hostWaitNs == 4 * 2 * 7_000)
    }

    /// On the CPU path the layer runs no GPU splits (47,000 as without the syncs); a layer
    /// kept on the GPU has its weights there (layer 0 copied: 94,500; layer 1: A + 2F = 2,500).
    @Test("the syncs between weight tensors are paid neither on the CPU path nor by layers kept on the GPU")
    func splitSyncsOnlyOnTheCopyPath() throws {
        let sync = HostCost(fixedNs: 7_000)
        #expect(try simulate(engine(cpuBelow: 32, splitSync: sync)).tpot.mean == 47_000)
        #expect(try simulate(engine(cpuBelow: 1, hostLayers: 1, splitSync: sync)).tpot.mean == 97_000)
    }

    /// From pageable memory at 12.5 GB/s a run of two experts takes 5,000 + 160,000 ns: 500 +
    /// 165,000 + 2,000 a layer. Pinned copies, or a profile without the figure, keep 175,000.
    @Test("an engine that copies from pageable memory moves its copies at the profile's pageable rate")
    func pageableCopiesTakeThePageableRate() throws {
        var profile = SimFixtures.profile()
        func tpot(pageable: Bool) throws -> Double? {
            var host = engine(cpuBelow: 1)
            host.copiesFromPageableMemory = pageable
            return try SimFixtures.simulate(trace(), model: SimFixtures.model(layers: 2, experts: 4), profile: profile,
                                            options: SimulationOptions(eviction: .lru, engine: host)).tpot.mean
        }
        #expect(try tpot(pageable: true) == 175_000)
        profile.pageableH2DGBps = 12.5
        #expect(try tpot(pageable: true) == 335_000)
        #expect(try tpot(pageable: false) == 175_000)
    }

    /// Layer 0 routes to {0, 2}: two runs, 500 + 2 × 45,000 + 2,000 = 92,500; layer 1 to
    /// {1, 2}: one run, 87,500.
    @Test("a gap in the expert ids starts a new run")
    func gapsSplitRuns() throws {
        let metrics = try simulate(engine(cpuBelow: 1), trace: try trace(first: [0, 2], second: [1, 2]))
        #expect(metrics.tpot.mean == 180_000)
    }

    /// `--n-cpu-moe 1`: layer 0 on the CPU as above (23,500); layer 1's experts are on the GPU
    /// from the start: A + the grouped kernel over both (2F), 2,500. Every layer-1 lookup hits.
    @Test("layers after the engine's host layers keep their experts on the GPU, outside the cache")
    func laterLayersStayOnTheGPU() throws {
        let metrics = try simulate(engine(cpuBelow: 32, hostLayers: 1))
        #expect(metrics.tpot.mean == 26_000)
        #expect(metrics.cpuExperts == 4 * 2)
        #expect(metrics.layers[1].hits == 4 * 2 && metrics.layers[0].hits == 0)
        #expect(metrics.bytesMoved == 0 && metrics.evictions == 0)
    }

    @Test("the GPU memory plan counts the experts of the layers an engine keeps on the GPU")
    func memoryPlanCountsGPULayers() {
        let model = SimFixtures.model(layers: 2, experts: 4)
        func plan(_ hostLayers: Int?) -> GPUMemoryPlan {
            GPUMemoryPlan(model: model, profile: SimFixtures.profile(), engine: engine(cpuBelow: 32, hostLayers: hostLayers), batch: 1,
                          sequenceTokens: 4, stepTokens: 1, topK: 2)
        }
        #expect(plan(1).residentWeightBytes == plan(nil).residentWeightBytes + 4 * 1_000_000)
        #expect(plan(0).residentWeightBytes == plan(nil).residentWeightBytes + 8 * 1_000_000)
        #expect(plan(2).residentWeightBytes == plan(nil).residentWeightBytes)
    }

    /// A shared expert of 4,000,000 B takes 4,000 ns on the GPU. From the router's end it runs
    /// while the CPU computes (A + max(4,000, 23,000) = 23,500 a layer); after the routed experts
    /// it adds to them (500 + 23,000 + 4,000 = 27,500).
    @Test("shared experts after the routed ones add to the layer instead of overlapping the CPU's work")
    func sharedExpertsAfterRouted() throws {
        let model = ModelCost(name: "hand", layers: 2, experts: 4, expertBytes: [1_000_000, 1_000_000], expertParameters: 0,
                              sharedExperts: 1, sharedExpertBytes: 4_000_000, attentionParameters: 0, attentionBytes: 500_000,
                              kvBytesPerToken: 0, queryWidth: 0)
        func tpot(after: Bool) throws -> Double? {
            var host = engine(cpuBelow: 32)
            host.sharedExpertsAfterRouted = after
            return try SimFixtures.simulate(trace(), model: model, profile: SimFixtures.profile(),
                                            options: SimulationOptions(eviction: .lru, engine: host)).tpot.mean
        }
        #expect(try tpot(after: false) == 47_000)
        #expect(try tpot(after: true) == 55_000)
    }

    @Test("llama.cpp's engine file names the threshold, the per-layer cost, the id runs, the syncs between weight tensors and pageable copies")
    func llamaCppEngine() {
        let llama = ServingEngine.llamaCpp
        #expect(llama.cpuExpertsBelowTokens == 32 && llama.copiesIDRuns && llama.cpuLayer == HostCost(syncs: 1, copyCalls: 1))
        #expect(llama.hostExpertLayers == nil && llama.sharedExpertsAfterRouted && llama.prefillChunkTokens == 512)
        #expect(llama.splitSync == HostCost(syncs: 2, copyCalls: 2) && llama.copiesFromPageableMemory)
        for key in ["cpu_experts_below_tokens", "copy_grouping", "cpu_layer_ns", "grouped_kernel_launches", "split_sync_ns", "copy_source"] {
            #expect(llama.sources[key]?.isEmpty == false, "llama-cpp has no source for \(key)")
        }
        #expect(llama.computesOnCPU(tokens: 31) && !llama.computesOnCPU(tokens: 32))
    }
}
