import TraceStore

/// What a run keeps in GPU memory, and what that leaves for the expert cache (DESIGN.md
/// §3: "GPU memory is accounted"): the profile's memory, less the weights that stay
/// resident (``ModelCost/residentWeightBytes``), the KV cache at the run's context and
/// batch, activations, and the engine's buffers for experts without a cache slot.
///
/// Every term is an explicit product of the model's, trace's and engine's numbers (see each
/// property); none is measured. Bytes; GPU memory from the profile's `memory_gib` (GiB).
public struct GPUMemoryPlan: Sendable, Equatable {
    /// The GPU's memory, bytes.
    public var totalBytes: Int
    /// Weights that stay on the GPU: embedding, output head, attention, routers, dense
    /// layers and shared experts, bf16; and the routed experts of the layers an engine keeps
    /// on the GPU (``ServingEngine/hostExpertLayers``), at their own sizes.
    public var residentWeightBytes: Int
    /// KV cache: `batch × tokens per sequence × KV bytes per token per layer × attention layers`.
    public var kvCacheBytes: Int
    /// Activations of the largest step: per token, 8 hidden-wide bf16 buffers plus the
    /// routed experts' intermediate outputs (top-k × expert width, bf16), plus fp32 logits
    /// for each sequence's last token — an estimate, not a measurement.
    public var activationBytes: Int
    /// The engine's buffers for experts that have no cache slot: two expert-sized staging
    /// buffers (streaming), the in-flight expert (per-expert loop), or buffer sets that each
    /// hold a whole layer's experts (layer-barrier, as YALIS allocates its buffer sets in
    /// buffer_manager.py with the full expert tensors' shape).
    public var engineBufferBytes: Int
    /// Every routed expert of every layer, bytes (what all-resident placement needs).
    public var allExpertBytes: Int

    /// The plan of `model` on `profile` under `engine`, for `batch` sequences of up to
    /// `sequenceTokens` tokens each (context included) and steps of up to `stepTokens` tokens.
    public init(model: ModelCost, profile: HardwareProfile, engine: ServingEngine, batch: Int, sequenceTokens: Int, stepTokens: Int,
                topK: Int, stagingBuffers: Int = 2) {
        totalBytes = Self.clamped(profile.memoryGiB * Double(1 << 30))
        let gpuLayers = model.expertBytes.indices.filter { engine.keepsExpertsOnGPU(layer: $0) }
        residentWeightBytes = Self.sum([model.residentWeightBytes] + gpuLayers.map { Self.product([model.expertBytes[$0], model.experts]) })
        kvCacheBytes = Self.product([batch, sequenceTokens, model.kvBytesPerToken, model.attentionLayers])
        let expertWidth = model.expertParameters / max(1, model.matricesPerExpert * model.hiddenSize)
        let perToken = 2 * (8 * model.hiddenSize + topK * expertWidth)
        activationBytes = Self.sum([Self.product([stepTokens, perToken]), Self.product([batch, model.vocabSize, 4])])
        let largest = model.expertBytes.max() ?? 0
        allExpertBytes = Self.sum(model.expertBytes.map { Self.product([$0, model.experts]) })
        switch engine.expertExecution {
        case .streaming: engineBufferBytes = Self.product([stagingBuffers, largest])
        case .perExpertSync: engineBufferBytes = largest
        case .layerBarrier, .concurrentStreams:
            // An engine that runs every expert keeps them all resident and copies nothing per layer.
            engineBufferBytes = engine.runsEveryExpert ? 0 : Self.product([engine.bufferSets ?? 2, model.experts, largest])
        }
    }

    /// The plan of a run in which no expert is ever without a slot (every expert resident, or a
    /// cache that holds them all): the engine then needs no buffers for uncached experts,
    /// whatever its execution.
    public var withoutEngineBuffers: GPUMemoryPlan {
        var plan = self
        plan.engineBufferBytes = 0
        return plan
    }

    /// Everything but the cache, bytes.
    public var committedBytes: Int { Self.sum([residentWeightBytes, kvCacheBytes, activationBytes, engineBufferBytes]) }

    /// What is left for the expert cache (negative when the rest does not fit), bytes.
    public var roomForCacheBytes: Int { totalBytes - committedBytes }

    /// The figures, for messages and notes: "GPU 48.00 GiB: 2.87 GiB resident weights, …".
    public var summary: String {
        let left = roomForCacheBytes >= 0 ? "\(Format.bytes(roomForCacheBytes)) left for experts"
            : "short by \(Format.bytes(committedBytes == Int.max ? Int.max : -roomForCacheBytes)) before any expert"
        return "GPU \(Format.bytes(totalBytes)): \(Format.bytes(residentWeightBytes)) resident weights, \(Format.bytes(kvCacheBytes)) KV cache, "
            + "\(Format.bytes(activationBytes)) activations, \(Format.bytes(engineBufferBytes)) engine buffers; \(left)"
    }

    // Sizes of absurd inputs saturate at Int.max rather than trap; such a plan simply does not fit.
    private static func product(_ factors: [Int]) -> Int {
        factors.reduce(1) { result, factor in
            let (value, overflow) = result.multipliedReportingOverflow(by: max(0, factor))
            return overflow ? Int.max : value
        }
    }

    private static func sum(_ terms: [Int]) -> Int {
        terms.reduce(0) { result, term in
            let (value, overflow) = result.addingReportingOverflow(term)
            return overflow ? Int.max : value
        }
    }

    private static func clamped(_ bytes: Double) -> Int { bytes.isFinite && bytes < 9e18 ? Int(max(0, bytes)) : Int.max }
}
