import TraceStore

/// What the compute and bus models need to know about the model being served: expert
/// sizes per MoE layer (as they cross the bus), the FLOPs behind them, and the attention
/// block's weights and KV-cache traffic.
///
/// Built by ``resolve(shape:preset:)`` from a trace's shape and, where one matches, a
/// ``ModelPreset``; every number that had to be estimated is listed in ``assumptions``.
public struct ModelCost: Sendable, Equatable {
    /// The model's name (preset or trace label).
    public var name: String
    /// MoE layers.
    public var layers: Int
    /// Routed experts per layer.
    public var experts: Int
    /// Bytes of one routed expert at each MoE layer, as copied and read from HBM.
    public var expertBytes: [Int]
    /// Parameters of one routed expert (FLOPs = 2 × parameters × tokens).
    public var expertParameters: Int
    /// Weight matrices per expert (3 for SwiGLU, 2 for a plain two-layer FFN): the copy calls
    /// per expert of an engine that moves each projection apart.
    public var matricesPerExpert: Int
    /// Always-resident shared experts per layer.
    public var sharedExperts: Int
    /// Bytes of one shared expert (resident on the GPU).
    public var sharedExpertBytes: Int
    /// Parameters of one layer's attention block plus router.
    public var attentionParameters: Int
    /// Bytes of one layer's attention and router weights (resident on the GPU).
    public var attentionBytes: Int
    /// KV-cache bytes read per context token per layer.
    public var kvBytesPerToken: Int
    /// Query width (heads × head dimension), for the attention-score FLOPs.
    public var queryWidth: Int
    /// Model (residual) width: a token's activation is `hiddenSize` bf16 values.
    public var hiddenSize: Int
    /// Bytes of every weight that stays on the GPU (all but the routed experts), bf16.
    public var residentWeightBytes: Int
    /// Layers that keep a KV cache (all transformer layers, dense ones included).
    public var attentionLayers: Int
    /// Vocabulary size (the output logits per token), 0 when unknown.
    public var vocabSize: Int
    /// Numbers that were estimated rather than read from a preset or the trace.
    public var assumptions: [String]

    /// Creates a cost description from explicit numbers (tests, custom models).
    public init(name: String, layers: Int, experts: Int, expertBytes: [Int], expertParameters: Int, matricesPerExpert: Int = 3,
                sharedExperts: Int = 0, sharedExpertBytes: Int = 0, attentionParameters: Int, attentionBytes: Int,
                kvBytesPerToken: Int, queryWidth: Int, hiddenSize: Int = 4096, residentWeightBytes: Int? = nil, attentionLayers: Int? = nil,
                vocabSize: Int = 0, assumptions: [String] = []) {
        self.name = name
        self.layers = layers
        self.experts = experts
        self.expertBytes = expertBytes
        self.expertParameters = expertParameters
        self.matricesPerExpert = matricesPerExpert
        self.sharedExperts = sharedExperts
        self.sharedExpertBytes = sharedExpertBytes
        self.attentionParameters = attentionParameters
        self.attentionBytes = attentionBytes
        self.kvBytesPerToken = kvBytesPerToken
        self.queryWidth = queryWidth
        self.hiddenSize = hiddenSize
        self.residentWeightBytes = residentWeightBytes ?? layers * (attentionBytes + sharedExperts * sharedExpertBytes)
        self.attentionLayers = attentionLayers ?? layers
        self.vocabSize = vocabSize
        self.assumptions = assumptions
    }

    /// Combines a trace's shape with a preset: expert bytes come from the trace where it
    /// carries them (e.g. the route CSVs' quantised sizes), else from the preset in bf16;
    /// FLOPs and attention come from the preset; without a preset they are estimated from
    /// the hidden size (attention ≈ 4 × hidden², bf16), and the estimate is listed.
    ///
    /// `dtype` overrides the trace's sizes with the preset's experts stored in that type.
    public static func resolve(shape: ModelShape, preset: ModelPreset?, dtype: ExpertDType? = nil) throws -> ModelCost {
        var assumptions: [String] = []
        let bytes: [Int]
        if let dtype {
            guard let preset else {
                throw TraceStoreError(file: "--expert-dtype", problem: "needs a model preset to size \(dtype.rawValue) experts",
                                      fix: "Pass --model with a preset (see `moesim models`).")
            }
            bytes = Array(repeating: preset.expertBytes(dtype), count: shape.layers)
            assumptions.append("expert sizes: \(preset.name) in \(dtype.rawValue) (\(bytes[0]) B), not the trace's")
        } else if let traced = shape.expertBytes {
            bytes = traced
        } else if let preset {
            bytes = Array(repeating: preset.expertBytes(.bf16), count: shape.layers)
        } else {
            throw TraceStoreError(file: "--model", problem: "the trace does not give expert sizes and no model was named",
                                  fix: "Pass --model with a preset (see `moesim models`).")
        }
        let hidden = preset?.hiddenSize ?? shape.hiddenSize
        let params: Int
        if let preset {
            params = preset.expertParameters
        } else if let hidden, let width = shape.expertIntermediateSize {
            params = 3 * hidden * width
            assumptions.append("expert FLOPs from a SwiGLU expert of \(hidden)×\(width)")
        } else {
            params = bytes.max()! / 2
            assumptions.append("expert FLOPs from its bytes as bf16")
        }
        let router = (hidden ?? 0) * shape.experts
        var attention = (preset?.attentionParameters ?? 0) + router
        var kv = preset?.kvCacheBytesPerToken ?? 0
        var width = preset?.queryWidth ?? 0
        if preset == nil || preset?.attentionParameters == 0 {
            let h = hidden ?? 4096
            attention = 4 * h * h + router
            kv = 2 * h * 2
            width = h
            assumptions.append("attention estimated as 4 × hidden² weights (hidden \(h)) with full-width bf16 KV")
        }
        // The other weights are stored as the experts are when the whole model runs in fp32
        // (a checkpoint loaded as stored); otherwise they stay bf16 (a quantised expert
        // format does not quantise attention).
        let weightBytes = (dtype ?? shape.expertDType.flatMap(ExpertDType.init(rawValue:))) == .fp32 ? 4 : 2
        if weightBytes == 4 { assumptions.append("fp32 model: attention, shared and resident weights at 4 bytes per parameter") }
        let attentionBytes = shape.denseBytes.map { $0.max() ?? 0 }.flatMap { $0 > 0 ? $0 : nil } ?? attention * weightBytes
        let sharedBytes = (preset?.expertParameters ?? params) * weightBytes
        if preset == nil {
            assumptions.append("GPU-resident weights: the MoE layers' attention and shared experts only (no embedding or dense layers known)")
        }
        return ModelCost(
            name: shape.name, layers: shape.layers, experts: shape.experts, expertBytes: bytes, expertParameters: params,
            matricesPerExpert: preset?.matricesPerExpert ?? 3, sharedExperts: shape.sharedExperts, sharedExpertBytes: sharedBytes,
            attentionParameters: attention, attentionBytes: attentionBytes, kvBytesPerToken: kv, queryWidth: width,
            hiddenSize: hidden ?? 4096,
            residentWeightBytes: preset.map { $0.residentWeightBytes / 2 * weightBytes } ?? shape.layers * (attentionBytes + shape.sharedExperts * sharedBytes),
            attentionLayers: preset?.totalLayers ?? shape.layers, vocabSize: preset?.vocabSize ?? 0, assumptions: assumptions)
    }
}
