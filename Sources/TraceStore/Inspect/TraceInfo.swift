/// `moesim trace info`: what a trace holds and what it costs to store.
///
/// The JSON keys (snake case, see traces/FORMAT.md "trace info --json") are stable.
public struct TraceInfo: Codable, Equatable, Sendable {
    public var path: String
    public var fileBytes: Int
    public var formatVersion: Int
    public var model: String
    public var layers: Int
    public var experts: Int
    public var topK: Int
    public var nativeTopK: Int?
    public var sharedExperts: Int
    /// Bytes of one expert per MoE layer, when the trace carries them.
    public var expertBytes: [Int]?
    public var expertDType: String?
    public var hasWeights: Bool
    public var synthetic: Bool
    /// "real" or "synthetic".
    public var provenance: String
    public var source: String
    public var license: String
    public var notes: String
    public var importer: String
    public var createdBy: String
    public var tokens: Int
    public var prefillTokens: Int
    public var decodeTokens: Int
    public var sequences: Int
    public var chunks: Int
    /// Routed decisions: tokens × layers × top-k.
    public var decisions: Int
    /// Of those, the decisions the source lacked (tokens kept with some layers absent).
    public var absentDecisions: Int
    /// Compressed ids and weights per routed decision, in bytes.
    public var bytesPerDecision: Double
    /// Compressed ids alone per routed decision, in bytes.
    public var bytesPerDecisionIds: Double
    /// The whole file per routed decision (SQLite overhead included), in bytes.
    public var fileBytesPerDecision: Double
    public var predictionLookaheads: [Int]
    public var predictionWidth: Int
    /// What `--verify` checked (nil without it).
    public var verified: String?

    enum CodingKeys: String, CodingKey {
        case path, model, layers, experts, notes, importer, source, license, synthetic, provenance, tokens, sequences, chunks, decisions
        case absentDecisions = "absent_decisions"
        case fileBytes = "file_bytes", formatVersion = "format_version", topK = "top_k", nativeTopK = "native_top_k"
        case sharedExperts = "shared_experts", expertBytes = "expert_bytes", expertDType = "expert_dtype"
        case hasWeights = "has_weights", createdBy = "created_by", prefillTokens = "prefill_tokens", decodeTokens = "decode_tokens"
        case bytesPerDecision = "bytes_per_decision", bytesPerDecisionIds = "bytes_per_decision_ids"
        case fileBytesPerDecision = "file_bytes_per_decision", predictionLookaheads = "prediction_lookaheads"
        case predictionWidth = "prediction_width", verified
    }

    /// Reads the summary of `trace` (metadata and payload sizes); with `verify`, every chunk
    /// is decoded and checked too (``TraceVerification``).
    public init(trace: TraceReader, verify: Bool = false) throws {
        let meta = trace.metadata
        let payload = try trace.payloadBytes()
        let decisions = max(meta.decisions, 1)
        path = trace.path
        fileBytes = trace.fileBytes
        formatVersion = meta.formatVersion
        model = meta.shape.name
        layers = meta.shape.layers
        experts = meta.shape.experts
        topK = meta.shape.topK
        nativeTopK = meta.shape.nativeTopK
        sharedExperts = meta.shape.sharedExperts
        expertBytes = meta.shape.expertBytes
        expertDType = meta.shape.expertDType
        hasWeights = meta.hasWeights
        synthetic = meta.synthetic
        provenance = meta.provenanceLabel
        source = meta.source
        license = meta.license
        notes = meta.notes
        importer = meta.importer
        createdBy = meta.createdBy
        tokens = meta.tokens
        prefillTokens = meta.prefillTokens
        decodeTokens = meta.decodeTokens
        sequences = meta.sequences
        chunks = meta.chunks
        self.decisions = meta.decisions
        absentDecisions = meta.absentDecisions
        bytesPerDecision = Double(payload.routing + payload.weights) / Double(decisions)
        bytesPerDecisionIds = Double(payload.routing) / Double(decisions)
        fileBytesPerDecision = Double(trace.fileBytes) / Double(decisions)
        predictionLookaheads = meta.predictionLookaheads
        predictionWidth = meta.predictionWidth
        verified = verify ? try TraceVerification.run(trace) : nil
    }

    /// The human-readable summary.
    public var text: String {
        var lines = [
            "trace       \(path)  [\(provenance.uppercased())]",
            "model       \(model): \(layers) MoE layers × \(experts) experts, top-\(topK)"
                + (nativeTopK.map { " (recorded with an overridden top-k; native \($0))" } ?? "")
                + (sharedExperts > 0 ? ", \(sharedExperts) shared" : ""),
        ]
        if let expertBytes, let low = expertBytes.min(), let high = expertBytes.max() {
            let size = low == high ? Format.bytes(low) : "\(Format.bytes(low))–\(Format.bytes(high))"
            lines.append("expert size \(size) per expert\(expertDType.map { " (\($0))" } ?? "")")
        }
        lines += [
            "tokens      \(tokens) (prefill \(prefillTokens), decode \(decodeTokens)) in \(sequences) sequences, \(chunks) chunks",
            "decisions   \(decisions) routed (tokens × layers × top-k)" + (absentDecisions > 0 ? "; \(absentDecisions) of them absent (tokens that lack some layers)" : ""),
            "weights     \(hasWeights ? "fp16 gate weights stored" : "none recorded")",
            "storage     \(Format.bytes(fileBytes)) file; \(Format.fixed(bytesPerDecisionIds, 3)) B/decision ids only, "
                + "\(Format.fixed(bytesPerDecision, 3)) B/decision with weights, \(Format.fixed(fileBytesPerDecision, 3)) B/decision whole file",
        ]
        if !predictionLookaheads.isEmpty {
            lines.append("predictions lookaheads \(predictionLookaheads.map(String.init).joined(separator: ", ")), \(predictionWidth) experts each")
        }
        lines += [
            "source      \(source)",
            "licence     \(license)",
            // moesim's importers store its bare version; other writers (the Python recorder) name themselves.
            "importer    \(importer) (\(createdBy.first?.isNumber == true ? "moesim " + createdBy : createdBy))",
        ]
        if !notes.isEmpty { lines.append("notes       \(notes)") }
        if let verified { lines.append("verified    \(verified)") }
        return lines.joined(separator: "\n")
    }
}
