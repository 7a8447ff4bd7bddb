/// A published MoE model's shape, with the source of its numbers.
///
/// Expert parameter counts follow the FFN form: SwiGLU experts (gate, up and down
/// projections) hold 3 × hidden × intermediate weights; Switch Transformer's ReLU
/// experts (wi, wo) hold 2 × hidden × intermediate. Biases and norms are ignored.
public struct ModelPreset: Sendable, Equatable {
    /// The preset's name as given to `--model` (lower case).
    public var name: String
    /// The model's published name.
    public var displayName: String
    /// All transformer layers (dense and MoE).
    public var totalLayers: Int
    /// The layer numbers (0-based) that hold MoE blocks.
    public var moeLayers: [Int]
    /// Routed experts per MoE layer.
    public var experts: Int
    /// Routed experts per token per layer.
    public var topK: Int
    /// Always-active shared experts per MoE layer.
    public var sharedExperts: Int
    /// Model (residual) width.
    public var hiddenSize: Int
    /// Width of one routed expert's FFN.
    public var expertIntermediateSize: Int
    /// Weight matrices per expert: 3 for SwiGLU, 2 for a plain two-layer FFN.
    public var matricesPerExpert: Int
    /// Where the numbers come from.
    public var source: String
    /// Weights of one layer's attention block (q, k, v and o projections; MLA's low-rank
    /// projections for DeepSeek-V2), in parameters. Derivation in ``attentionSource``.
    public var attentionParameters: Int = 0
    /// bf16 KV-cache bytes one token adds per layer (K and V; MLA's compressed latent).
    public var kvCacheBytesPerToken: Int = 0
    /// Width of the attention queries (heads × head dimension), for the score FLOPs.
    public var queryWidth: Int = 0
    /// The config keys behind the attention numbers.
    public var attentionSource: String = ""
    /// Vocabulary size (rows of the embedding and of the output head).
    public var vocabSize: Int = 0
    /// Whether the output head shares the embedding's weights.
    public var tiedEmbeddings = false
    /// FFN width of the dense (non-MoE) layers, 0 when every layer is MoE.
    public var denseIntermediateSize = 0
    /// The config keys behind the vocabulary and dense-layer numbers.
    public var residentSource: String = ""

    /// Parameters of one routed expert.
    public var expertParameters: Int { matricesPerExpert * hiddenSize * expertIntermediateSize }

    /// Returns the preset with its attention numbers set.
    func withAttention(parameters: Int, kvBytesPerToken: Int, queryWidth: Int, source: String) -> ModelPreset {
        var copy = self
        copy.attentionParameters = parameters
        copy.kvCacheBytesPerToken = kvBytesPerToken
        copy.queryWidth = queryWidth
        copy.attentionSource = source
        return copy
    }

    /// Returns the preset with its embedding and dense-layer numbers set.
    func withResident(vocab: Int, tied: Bool, denseIntermediate: Int = 0, source: String) -> ModelPreset {
        var copy = self
        copy.vocabSize = vocab
        copy.tiedEmbeddings = tied
        copy.denseIntermediateSize = denseIntermediate
        copy.residentSource = source
        return copy
    }

    /// Bytes of the weights that stay on the GPU in bf16 (everything but the routed experts):
    /// embedding and output head, every layer's attention, the routers, the dense layers'
    /// FFNs and the shared experts. Norms and biases are left out (well under 0.1%).
    public var residentWeightBytes: Int {
        let embeddings = vocabSize * hiddenSize * (tiedEmbeddings ? 1 : 2)
        let dense = (totalLayers - moeLayers.count) * matricesPerExpert * hiddenSize * denseIntermediateSize
        let perMoELayer = hiddenSize * experts + sharedExperts * expertParameters
        return 2 * (embeddings + totalLayers * attentionParameters + dense + moeLayers.count * perMoELayer)
    }

    /// Bytes of one routed expert stored as `dtype`.
    public func expertBytes(_ dtype: ExpertDType) -> Int { dtype.bytes(parameters: expertParameters) }

    /// The trace shape of this model with experts stored as `dtype`.
    public func shape(dtype: ExpertDType = .bf16) -> ModelShape {
        ModelShape(
            name: name, layers: moeLayers.count, experts: experts, topK: topK, sharedExperts: sharedExperts,
            hiddenSize: hiddenSize, expertIntermediateSize: expertIntermediateSize, modelLayers: moeLayers,
            expertBytes: Array(repeating: expertBytes(dtype), count: moeLayers.count), expertDType: dtype.rawValue)
    }
}
