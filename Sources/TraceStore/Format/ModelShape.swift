/// The MoE shape a trace was recorded on: what the routing ids index into and how big
/// each expert is. Layers here are MoE layers only, numbered 0..<layers; `modelLayers`
/// maps them back to the model's own layer numbers.
public struct ModelShape: Equatable, Sendable {
    /// The model's name: a preset name (see ``ModelPreset``) or the source's own label.
    public var name: String
    /// Number of MoE layers in the trace.
    public var layers: Int
    /// Routed experts per MoE layer.
    public var experts: Int
    /// Experts each token is routed to per layer, as recorded (may differ from the model's native top-k).
    public var topK: Int
    /// The model's native top-k, when the recording overrode it (the route CSVs did).
    public var nativeTopK: Int?
    /// Always-active shared experts per MoE layer (they need no routing).
    public var sharedExperts: Int
    /// Model hidden size, when known.
    public var hiddenSize: Int?
    /// Intermediate size of one routed expert's FFN, when known.
    public var expertIntermediateSize: Int?
    /// The model's layer number of each MoE layer (count `layers`).
    public var modelLayers: [Int]
    /// Bytes of one routed expert at each MoE layer, as the source stored it (count `layers`), when the source gives it.
    public var expertBytes: [Int]?
    /// Bytes of each MoE layer's dense (non-expert) weights, when the source gives it.
    public var denseBytes: [Int]?
    /// The storage type behind `expertBytes` ("bf16", "Q4_K_M", …), when known.
    public var expertDType: String?

    /// MoE layers a trace may have.
    public static let supportedLayers = 1...4_096

    /// Creates a shape; `modelLayers` defaults to 0..<layers.
    public init(
        name: String, layers: Int, experts: Int, topK: Int, nativeTopK: Int? = nil, sharedExperts: Int = 0,
        hiddenSize: Int? = nil, expertIntermediateSize: Int? = nil, modelLayers: [Int]? = nil,
        expertBytes: [Int]? = nil, denseBytes: [Int]? = nil, expertDType: String? = nil
    ) {
        self.name = name
        self.layers = layers
        self.experts = experts
        self.topK = topK
        self.nativeTopK = nativeTopK
        self.sharedExperts = sharedExperts
        self.hiddenSize = hiddenSize
        self.expertIntermediateSize = expertIntermediateSize
        // Only a supported count gets the default map: a count taken from damaged data (layer
        // 10^12) would otherwise be allocated here, before `validate` refuses it.
        self.modelLayers = modelLayers ?? (Self.supportedLayers.contains(layers) ? Array(0..<layers) : [])
        self.expertBytes = expertBytes
        self.denseBytes = denseBytes
        self.expertDType = expertDType
    }

    /// Routing decisions (expert ids) per token: layers × top-k.
    public var decisionsPerToken: Int { layers * topK }

    /// Checks the numbers are usable; `file` names the trace or input in the error.
    public func validate(file: String) throws {
        func fail(_ problem: String) -> TraceStoreError {
            TraceStoreError(file: file, place: "model shape", problem: problem,
                            fix: "Pass --model with a preset (see `moesim models`) or fix the source's header.")
        }
        guard Self.supportedLayers.contains(layers) else { throw fail("has \(layers) MoE layers (1…4096 supported)") }
        guard experts > 0, experts <= 65_535 else { throw fail("has \(experts) experts (1…65535 supported)") }
        guard topK > 0, topK <= experts else { throw fail("has top-k \(topK) for \(experts) experts") }
        guard layers * experts <= ValidRange.expertSlots else {
            throw fail("has \(layers) layers × \(experts) experts = \(layers * experts) (at most \(ValidRange.expertSlots) supported: per-expert state is kept for each)")
        }
        guard layers * topK <= 1 << 20 else { throw fail("routes \(layers * topK) decisions per token (layers × top-k; 1…1048576 supported)") }
        if let nativeTopK, !(1...experts).contains(nativeTopK) { throw fail("has native top-k \(nativeTopK) for \(experts) experts") }
        guard (0...64).contains(sharedExperts) else { throw fail("has \(sharedExperts) shared experts (0…64 supported)") }
        if let hiddenSize, !ValidRange.hiddenSize.contains(hiddenSize) {
            throw fail("has hidden size \(hiddenSize); valid: \(ValidRange.text(ValidRange.hiddenSize))")
        }
        if let expertIntermediateSize, !ValidRange.hiddenSize.contains(expertIntermediateSize) {
            throw fail("has expert intermediate size \(expertIntermediateSize); valid: \(ValidRange.text(ValidRange.hiddenSize))")
        }
        guard modelLayers.count == layers else { throw fail("maps \(modelLayers.count) model layers for \(layers) MoE layers") }
        if let expertBytes, expertBytes.count != layers {
            throw fail("gives expert bytes for \(expertBytes.count) of \(layers) layers")
        }
        if let bad = expertBytes?.firstIndex(where: { !ValidRange.expertBytes.contains($0) }) {
            throw fail("gives layer \(bad) experts of \(expertBytes![bad]) bytes; valid: \(ValidRange.text(ValidRange.expertBytes)) (16 GiB)")
        }
        if let expertBytes, expertBytes.reduce(0, { $0 + $1 }) > ValidRange.routedExpertBytes / experts {
            throw fail("has \(experts) experts per layer totalling more than 4 PiB (2^52 bytes): beyond what 64-bit byte counts of a run can sum")
        }
        if let denseBytes, denseBytes.count != layers { throw fail("gives dense bytes for \(denseBytes.count) of \(layers) layers") }
        if let bad = denseBytes?.firstIndex(where: { !ValidRange.denseBytes.contains($0) }) {
            throw fail("gives layer \(bad) dense weights of \(denseBytes![bad]) bytes; valid: \(ValidRange.text(ValidRange.denseBytes))")
        }
    }
}
