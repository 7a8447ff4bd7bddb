extension PolicySpec {
    /// The named policies, in the order `moesim policies` lists them; `policies/*.toml` holds
    /// the same as files (a test keeps them equal).
    public static let builtIns: [PolicySpec] = {
        var all: [PolicySpec] = []
        all.append(PolicySpec(name: "on-demand", description: "fetch each routed expert when the router picks it; optional cache",
                              paper: "the baseline of the offloading papers (DESIGN.md §1)", mechanism: .onDemand))

        var fate = PolicySpec(name: "cross-layer-gate", description: "after layer l's router, prefetch the experts predicted for layer l+1 (parametric stand-in at Fate's ~97% accuracy); misses fetched exactly",
                              paper: "Fate, arXiv 2502.12224", mechanism: .prefetch)
        fate.predictor = "parametric"
        fate.recall = 0.97
        all.append(fate)

        var speculation = PolicySpec(name: "default-vector-speculation", description: "execute layer l+1's predicted experts without re-fetching; layers 0-1 exact",
                                     paper: "arXiv 2603.19289", mechanism: .speculative)
        speculation.predictor = "parametric"
        speculation.recall = 0.9
        speculation.exactLayers = [0, 1]
        all.append(speculation)

        var mixtral = PolicySpec(name: "mixtral-offloading", description: "per-layer LRU cache plus speculative loading of the next layer's guess",
                                 paper: "Eliseev & Mazur, arXiv 2312.17238", mechanism: .prefetch)
        mixtral.predictor = "cross-layer"
        mixtral.cacheExpertsPerLayer = 4
        mixtral.eviction = .lru
        mixtral.partitioned = true
        all.append(mixtral)

        var fiddler = PolicySpec(name: "fiddler", description: "compute missed experts on the CPU; popular experts pinned on the GPU",
                                 paper: "Kamahori et al., arXiv 2402.07033", mechanism: .cpuFallback)
        fiddler.eviction = .pinned
        all.append(fiddler)

        var hobbit = PolicySpec(name: "hobbit", description: "fetch misses carrying under 10% of their tokens' top-k gate weight as int4 copies; that weight counts as fidelity loss",
                                paper: "Tang et al., arXiv 2411.01433", mechanism: .lowPrecision)
        hobbit.eviction = .lru
        all.append(hobbit)

        var promoe = PolicySpec(name: "promoe", description: "chunked prefetch of predicted experts, demand copies preempt at chunk boundaries, resident experts first",
                                paper: "Song et al., arXiv 2410.22134", mechanism: .prefetch)
        promoe.predictor = "cross-layer"
        promoe.chunkBytes = 1 << 20
        promoe.order = .residentFirst
        all.append(promoe)

        var drafting = PolicySpec(name: "speculative-decoding", description: "4 draft tokens (2 ms each, acceptance 0.7) verified as one batch; no prefetch: the baseline for sp-moe",
                                  paper: "speculative decoding (Leviathan et al., arXiv 2211.17192)", mechanism: .speculativeDecoding)
        drafting.predictor = "parametric"
        drafting.recall = 0.9
        drafting.prefetchDuringDraft = false
        all.append(drafting)

        var spmoe = PolicySpec(name: "sp-moe", description: "speculative decoding that prefetches the verification's predicted experts from drafting on, through the verification, up to a cutoff layer from a latency model",
                               paper: "SP-MoE, arXiv 2510.10302", mechanism: .speculativeDecoding)
        spmoe.predictor = "parametric"
        spmoe.recall = 0.9
        all.append(spmoe)

        var staticEP = PolicySpec(name: "expert-parallel", description: "4 GPUs, experts statically placed (e mod G), all-to-all over NVLink: the baseline for replication",
                                  paper: "expert parallelism (GShard, arXiv 2006.16668)", mechanism: .expertParallel)
        staticEP.replicate = false
        all.append(staticEP)

        // Not the system of arXiv 2605.11537 (one A100, SiDA-style predicted loading, replicas on
        // concurrent streams): load balancing across expert-parallel GPUs, kept as its own model.
        var replication = PolicySpec(name: "expert-parallel-replication", description: "4 GPUs; experts predicted (from the previous step's load) to be overloaded are replicated to less-loaded GPUs (not arXiv 2605.11537's single-GPU system)",
                                     paper: "expert-parallel load balancing by replication (after the replication idea of arXiv 2605.11537, not its system)", mechanism: .expertParallel)
        replication.replicate = true
        all.append(replication)

        var predictive = PolicySpec(name: "predictive-replication", description: "one GPU: each batch's experts predicted (SiDA-style), loaded before it and executed; predicted-hot experts replicated onto concurrent streams under a memory cap",
                                    paper: "arXiv 2605.11537 (predictive prefetching and expert replication, on SiDA-MoE); replication rule, threshold and cap assumed (its code is not public)",
                                    mechanism: .predictiveReplication)
        predictive.predictor = "parametric"
        predictive.recall = 0.994
        all.append(predictive)

        all.append(PolicySpec(name: "all-resident", description: "every expert on the GPU: the compute floor, no offloading",
                              paper: "bound", mechanism: .allResident))

        var oracle = PolicySpec(name: "oracle", description: "Belady cache plus prefetch of the true next-layer experts",
                                paper: "bound (Belady 1966 + oracle prefetch)", mechanism: .prefetch)
        oracle.predictor = "oracle"
        oracle.eviction = .belady
        all.append(oracle)
        return all
    }()

    /// The built-in spec named `name`, or nil.
    public static func builtIn(named name: String) -> PolicySpec? { builtIns.first { $0.name == name } }
}
