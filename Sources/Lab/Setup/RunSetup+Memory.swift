import OffloadSim
import Policies
import TraceStore

extension RunSetup {
    /// The GPU memory of this run (``GPUMemoryPlan``): resident weights, KV cache at the
    /// context and batch, activations and the engine's buffers.
    public var memoryPlan: GPUMemoryPlan {
        Self.memoryPlan(reader: reader, cost: cost, profile: profile, options: options, batch: batch, prefillAsDecode: prefillAsDecode,
                        context: contextTokens)
    }

    static func memoryPlan(reader: TraceReader, cost: ModelCost, profile: HardwareProfile, options: SimulationOptions, batch: Int,
                           prefillAsDecode: Bool, context: Int?) -> GPUMemoryPlan {
        let sequences = reader.sequences
        // The longest sequence's KV cache at its end; a step's tokens at most a batch of the longest
        // prompts, or the engine's prefill chunk (a decode step still takes one token of each sequence).
        let sequenceTokens = sequences.map { sequence in
            prefillAsDecode ? (context ?? 0) + sequence.tokens : (context ?? sequence.prefillTokens) + sequence.decodeTokens
        }.max() ?? 0
        let stepTokens = prefillAsDecode ? batch : min(batch * max(1, sequences.map(\.prefillTokens).max() ?? 1),
                                                       max(batch, options.engine.prefillChunkTokens ?? Int.max))
        return GPUMemoryPlan(model: cost, profile: profile, engine: options.engine, batch: batch, sequenceTokens: sequenceTokens,
                             stepTokens: stepTokens, topK: reader.metadata.shape.topK, stagingBuffers: options.stagingBuffers)
    }

    /// Refuses a run whose weights, KV cache, buffers and expert cache do not fit in the
    /// GPU's memory, with the figures: the cache the policy would use (a prefetch buffer
    /// inside a layer-barrier engine's buffer sets is already counted with them), every
    /// expert for all-resident, a GPU's share of the experts for expert parallelism.
    public func checkMemory() throws {
        try PolicyCatalog.checkLookahead(policy, model: cost)
        try PolicyCatalog.checkEngine(policy, engine: options.engine)
        let topK = reader.metadata.shape.topK
        let layerBytes = memoryPlan.allExpertBytes
        let needed: Int
        let what: String
        // The experts' share of `needed`: an expert cache or every expert (replicas and expert
        // parallelism's share aside: 0).
        var cached = 0
        switch policy.mechanism {
        case .allResident:
            (needed, what) = (layerBytes, "every expert resident (\(Format.bytes(layerBytes)))")
            cached = layerBytes
        case .expertParallel:
            let share = layerBytes / policy.gpus + (policy.replicate ? policy.replicaSlots * (cost.expertBytes.max() ?? 0) : 0)
            (needed, what) = (share, "one GPU's share of the experts over \(policy.gpus) GPUs (\(Format.bytes(share)))")
        case .predictiveReplication:
            let cache = PolicyCatalog.plannedCache(policy, model: cost, profile: profile, engine: options.engine, topK: topK, overrides: overrides).bytes
            let replicas = Int(policy.replicaMemoryMiB * Double(Units.mebibyte))
            (needed, what) = (cache + replicas, "an expert cache of \(Format.bytes(cache)) and replicas of up to \(Format.bytes(replicas))")
            cached = cache
        default:
            let planned = PolicyCatalog.plannedCache(policy, model: cost, profile: profile, engine: options.engine, topK: topK, overrides: overrides)
            let counted = planned.implicit && options.engine.waitsForWholeLayer ? 0 : planned.bytes
            (needed, what) = (counted, counted == 0 ? "no expert cache" : "an expert cache of \(Format.bytes(counted))")
            cached = counted
        }
        // Buffers for uncached experts are needed only where some expert can lack a slot: not with
        // every expert resident, nor with a cache that holds them all.
        let plan = cached >= layerBytes ? memoryPlan.withoutEngineBuffers : memoryPlan
        guard plan.roomForCacheBytes < 0 || needed > plan.roomForCacheBytes else { return }
        if profile.memoryGiB == 0 {
            // `gpu calibrate` wrote 0 for a GPU without a preset until 2026-12-04 (an H200 showed it).
            throw TraceStoreError(
                file: reader.path, place: "GPU memory",
                problem: "the hardware profile '\(profile.name)' gives no GPU memory (gpu.memory_gib = 0), so nothing fits on \(profile.displayName)",
                fix: "Set memory_gib under [gpu] in the profile to the GPU's memory in GiB (nvidia-smi's total), or calibrate again: `moesim gpu calibrate` now takes it from the driver.")
        }
        throw TraceStoreError(
            file: reader.path, place: "GPU memory",
            problem: "\(cost.name) with \(what) does not fit on \(profile.displayName): \(plan.summary)",
            fix: policy.mechanism == .predictiveReplication && plan.roomForCacheBytes > 0
                ? "Give --cache-mib and the policy file's replication.memory_mib that add up to \(plan.roomForCacheBytes / Units.mebibyte) MiB or less, or another --hardware."
                : plan.roomForCacheBytes > 0 && needed < plan.allExpertBytes && policy.mechanism != .expertParallel
                ? "Give --cache-mib \(plan.roomForCacheBytes / Units.mebibyte) or less (or --cache-mib auto), a shorter --context, a smaller --batch, or another --hardware."
                : "Use a GPU with more memory (--hardware FILE.toml with a larger memory_gib)\(policy.mechanism == .expertParallel ? " or more GPUs (placement.gpus in the policy file)" : "")"
                  + "\(Self.hostLayersHint(options.engine)), a shorter --context or a smaller --batch.")
    }

    /// ", more layers' experts in host memory (…)" for an engine that keeps some layers' experts on the GPU, else "".
    static func hostLayersHint(_ engine: ServingEngine) -> String {
        engine.hostExpertLayers != nil ? ", more layers' experts in host memory (the engine's host_expert_layers)" : ""
    }
}
