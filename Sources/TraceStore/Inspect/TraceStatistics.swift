import Foundation

/// Routing statistics of one MoE layer (see ``TraceStatistics``).
public struct LayerStatistics: Codable, Equatable, Sendable {
    /// MoE layer index in the trace.
    public var layer: Int
    /// The model's own layer number.
    public var modelLayer: Int
    /// Experts routed to at least once.
    public var distinctExperts: Int
    /// Shannon entropy of the expert popularity, in bits.
    public var entropyBits: Double
    /// Entropy over log2(experts): 1 for uniform use, lower for skew.
    public var normalizedEntropy: Double
    /// Share of the layer's routed decisions taken by its most used 10% of experts (popularity skew).
    public var topDecileShare: Double
    /// Share of a token's experts that the previous token of its sequence also used at this layer.
    public var reuse: Double
    /// Recall of layer l + 1's experts predicted from layer l's by co-activation (nil for the last layer).
    public var affinityRecall: Double?
    /// Recall of predicting layer l + 1's top-k by popularity alone, for comparison (nil for the last layer).
    public var popularityRecall: Double?

    enum CodingKeys: String, CodingKey {
        case layer, reuse
        case modelLayer = "model_layer", distinctExperts = "distinct_experts", entropyBits = "entropy_bits"
        case normalizedEntropy = "normalized_entropy", topDecileShare = "top_decile_share"
        case affinityRecall = "affinity_recall", popularityRecall = "popularity_recall"
    }

    /// Encodes every key, with null where a figure does not apply, so that the key set is stable.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(layer, forKey: .layer)
        try container.encode(modelLayer, forKey: .modelLayer)
        try container.encode(distinctExperts, forKey: .distinctExperts)
        try container.encode(entropyBits, forKey: .entropyBits)
        try container.encode(normalizedEntropy, forKey: .normalizedEntropy)
        try container.encode(topDecileShare, forKey: .topDecileShare)
        try container.encode(reuse, forKey: .reuse)
        try container.encode(affinityRecall, forKey: .affinityRecall)
        try container.encode(popularityRecall, forKey: .popularityRecall)
    }
}

/// Bytes of the distinct experts a stretch of consecutive tokens of one sequence touches, all layers together.
public struct WorkingSet: Codable, Equatable, Sendable {
    /// Window length in tokens.
    public var tokens: Int
    /// Mean distinct (layer, expert) pairs per window.
    public var experts: Double
    /// Mean bytes of those experts (nil when the trace has no expert sizes).
    public var bytes: Double?

    /// A working-set figure.
    public init(tokens: Int, experts: Double, bytes: Double?) {
        self.tokens = tokens
        self.experts = experts
        self.bytes = bytes
    }

    /// Encodes every key, `bytes` as null when unknown.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tokens, forKey: .tokens)
        try container.encode(experts, forKey: .experts)
        try container.encode(bytes, forKey: .bytes)
    }

    enum CodingKeys: String, CodingKey { case tokens, experts, bytes }
}

/// `moesim trace stats`: per-layer popularity skew and entropy, distinct experts,
/// token-to-token reuse, cross-layer affinity, and working sets per token cycle.
///
/// JSON keys are snake case and stable (traces/FORMAT.md, "trace stats --json").
public struct TraceStatistics: Codable, Equatable, Sendable {
    public var trace: String
    /// "real" or "synthetic".
    public var provenance: String
    public var synthetic: Bool
    public var model: String
    public var tokens: Int
    public var sequences: Int
    /// Share of tokens in the decode phase.
    public var decodeShare: Double
    public var layers: [LayerStatistics]
    /// Means over layers of each per-layer figure.
    public var meanNormalizedEntropy: Double
    public var meanTopDecileShare: Double
    public var meanReuse: Double
    public var meanAffinityRecall: Double
    public var meanPopularityRecall: Double
    /// Working set for windows of 1, 8 and 64 tokens: 1 token is one token's cycle through all layers.
    public var workingSet: [WorkingSet]

    enum CodingKeys: String, CodingKey {
        case trace, provenance, synthetic, model, tokens, sequences, layers
        case decodeShare = "decode_share", meanNormalizedEntropy = "mean_normalized_entropy"
        case meanTopDecileShare = "mean_top_decile_share", meanReuse = "mean_reuse"
        case meanAffinityRecall = "mean_affinity_recall", meanPopularityRecall = "mean_popularity_recall"
        case workingSet = "working_set"
    }

    /// Measures `trace` in two streaming passes (counts, then affinity).
    public init(trace: TraceReader) throws {
        let counts = try RoutingCounts.gather(trace)
        var affinity = CrossLayerAffinity(counts: counts)
        try TokenWalk.forEach(trace) { _, _, ids, _, absent in affinity.add(ids, absent: absent) }
        self.init(counts: counts, affinity: affinity, metadata: trace.metadata, path: trace.path)
    }

    init(counts: RoutingCounts, affinity: CrossLayerAffinity, metadata: TraceMetadata, path: String) {
        let shape = metadata.shape
        trace = path
        provenance = metadata.provenanceLabel
        synthetic = metadata.synthetic
        model = shape.name
        tokens = counts.tokens
        sequences = counts.sequenceShapes.count
        decodeShare = Double(counts.decodeTokens) / Double(max(1, counts.tokens))
        let decile = max(1, Int((Double(shape.experts) / 10).rounded(.up)))
        func pairs(_ layer: Int) -> Double { Double(max(1, counts.reusePairs[layer] * shape.topK)) }
        layers = (0..<shape.layers).map { l in
            let popularity = counts.popularity(layer: l)
            let entropy = popularity.reduce(0) { $1 > 0 ? $0 - $1 * log2($1) : $0 }
            let last = l == shape.layers - 1
            return LayerStatistics(
                layer: l, modelLayer: shape.modelLayers[l], distinctExperts: popularity.filter { $0 > 0 }.count,
                entropyBits: entropy, normalizedEntropy: shape.experts > 1 ? entropy / log2(Double(shape.experts)) : 0,
                topDecileShare: popularity.sorted(by: >).prefix(decile).reduce(0, +),
                reuse: Double(counts.reuseHits[l]) / pairs(l),
                affinityRecall: last || !counts.tracksCoactivation ? nil : affinity.recall(layer: l),
                popularityRecall: last || !counts.tracksCoactivation ? nil : affinity.popularityRecall(layer: l))
        }
        func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
        meanNormalizedEntropy = mean(layers.map(\.normalizedEntropy))
        meanTopDecileShare = mean(layers.map(\.topDecileShare))
        meanReuse = mean(layers.map(\.reuse))
        meanAffinityRecall = mean(layers.compactMap(\.affinityRecall))
        meanPopularityRecall = mean(layers.compactMap(\.popularityRecall))
        let meanExpertBytes = shape.expertBytes.map { Double($0.reduce(0, +)) / Double($0.count) }
        workingSet = RoutingCounts.windowSizes.indices.map { w in
            let experts = Double(counts.windowDistinct[w]) / Double(max(1, counts.windowCount[w]))
            return WorkingSet(tokens: RoutingCounts.windowSizes[w], experts: experts, bytes: meanExpertBytes.map { $0 * experts })
        }
        if let bytes = shape.expertBytes, let w = workingSet.firstIndex(where: { $0.tokens == 1 }) {
            // One token touches exactly k distinct experts per layer, so its cycle's bytes are exact per layer.
            workingSet[w].bytes = Double(bytes.reduce(0, +) * shape.topK)
        }
    }

    /// The human-readable table.
    public var text: String {
        var lines = [
            "trace \(trace)  [\(provenance.uppercased())]  model \(model)",
            "\(tokens) tokens in \(sequences) sequences, decode share \(Format.fixed(decodeShare, 3))",
            "",
            "layer  model-layer  distinct  entropy(bits)  norm-entropy  top-10%-share  reuse  affinity  popularity",
        ]
        for layer in layers {
            lines.append([
                String(layer.layer).leftPadded(5), String(layer.modelLayer).leftPadded(11), String(layer.distinctExperts).leftPadded(8),
                Format.fixed(layer.entropyBits, 3).leftPadded(13), Format.fixed(layer.normalizedEntropy, 3).leftPadded(12),
                Format.fixed(layer.topDecileShare, 3).leftPadded(13), Format.fixed(layer.reuse, 3).leftPadded(5),
                (layer.affinityRecall.map { Format.fixed($0, 3) } ?? "-").leftPadded(8),
                (layer.popularityRecall.map { Format.fixed($0, 3) } ?? "-").leftPadded(10),
            ].joined(separator: "  "))
        }
        lines.append("mean" + String(repeating: " ", count: 34)
            + "\(Format.fixed(meanNormalizedEntropy, 3).leftPadded(12))  \(Format.fixed(meanTopDecileShare, 3).leftPadded(13))  "
            + "\(Format.fixed(meanReuse, 3).leftPadded(5))  \(Format.fixed(meanAffinityRecall, 3).leftPadded(8))  \(Format.fixed(meanPopularityRecall, 3).leftPadded(10))")
        lines.append("")
        lines.append("working set (distinct experts of consecutive tokens of one sequence, all layers):")
        for set in workingSet {
            let bytes = set.bytes.map { Format.bytes(Int($0.rounded())) } ?? "expert sizes unknown"
            lines.append("  \(String(set.tokens).leftPadded(3)) token\(set.tokens == 1 ? " " : "s"): \(Format.fixed(set.experts, 1)) experts, \(bytes)")
        }
        lines.append("")
        lines.append("reuse: share of a token's experts its predecessor also used; affinity: recall of next-layer experts from a co-activation predictor fitted in-sample; popularity: recall of the next layer's top-k by popularity alone.")
        return lines.joined(separator: "\n")
    }
}
