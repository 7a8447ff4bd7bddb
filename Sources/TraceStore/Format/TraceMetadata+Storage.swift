extension TraceMetadata {
    /// The `meta` rows for this metadata, in a fixed order (files are byte-for-byte reproducible).
    func keyValues() -> [(String, String)] {
        var rows: [(String, String)] = [
            ("format", Self.formatName),
            ("format_version", String(formatVersion)),
            ("model", shape.name),
            ("layers", String(shape.layers)),
            ("experts", String(shape.experts)),
            ("top_k", String(shape.topK)),
            ("shared_experts", String(shape.sharedExperts)),
            ("has_weights", hasWeights ? "1" : "0"),
            ("synthetic", synthetic ? "1" : "0"),
            ("source", source),
            ("license", license),
            ("notes", notes),
            ("importer", importer),
            ("created_by", createdBy),
            ("tokens", String(tokens)),
            ("prefill_tokens", String(prefillTokens)),
            ("decode_tokens", String(decodeTokens)),
            ("sequences", String(sequences)),
            ("chunks", String(chunks)),
            ("chunk_tokens", String(chunkTokens)),
        ]
        if let native = shape.nativeTopK { rows.append(("native_top_k", String(native))) }
        if let hidden = shape.hiddenSize { rows.append(("hidden_size", String(hidden))) }
        if let inter = shape.expertIntermediateSize { rows.append(("expert_intermediate_size", String(inter))) }
        if let dtype = shape.expertDType { rows.append(("expert_dtype", dtype)) }
        if !predictionLookaheads.isEmpty {
            rows.append(("prediction_lookaheads", predictionLookaheads.map(String.init).joined(separator: ",")))
            rows.append(("prediction_width", String(predictionWidth)))
        }
        if absentDecisions > 0 { rows.append(("absent_decisions", String(absentDecisions))) }
        return rows
    }

    /// Rebuilds metadata from `meta` rows and `layers` rows; `file` names the trace in errors.
    static func decode(
        meta: [String: String], layerRows: [(modelLayer: Int, expertBytes: Int?, denseBytes: Int?)], file: String
    ) throws -> TraceMetadata {
        func fail(_ key: String, _ problem: String) -> TraceStoreError {
            TraceStoreError(file: file, place: "meta key '\(key)'", problem: problem,
                            fix: "The file is not a complete moesim trace; re-create it with `moesim trace import`.")
        }
        guard meta["format"] == formatName else {
            throw TraceStoreError(
                file: file, problem: "is an SQLite file but not a moesim trace (no meta 'format' = '\(formatName)')",
                fix: "Import the source with `moesim trace import --format F INPUT -o OUT` first.")
        }
        func int(_ key: String) throws -> Int {
            guard let text = meta[key] else { throw fail(key, "is missing") }
            guard let value = Int(text), ValidRange.traceCount.contains(value) else {
                throw fail(key, "is '\(text)'; valid: an integer in \(ValidRange.text(ValidRange.traceCount))")
            }
            return value
        }
        func optionalInt(_ key: String) throws -> Int? { meta[key] == nil ? nil : try int(key) }
        let version = try int("format_version")
        guard readableFormatVersions.contains(version) else {
            throw TraceStoreError(
                file: file, place: "meta key 'format_version'",
                problem: "has format version \(version); this moesim (\(MoesimVersion.current)) reads versions \(readableFormatVersions.lowerBound)-\(readableFormatVersions.upperBound)",
                fix: version > currentFormatVersion
                    ? "Upgrade moesim, or re-import the source with this version."
                    : "Re-import the source with this version of moesim.")
        }
        let layers = try int("layers")
        guard layerRows.count == layers else {
            throw TraceStoreError(file: file, place: "table 'layers'", problem: "has \(layerRows.count) rows for \(layers) layers",
                                  fix: "The file is damaged; re-create it with `moesim trace import`.")
        }
        let expertBytes = layerRows.compactMap(\.expertBytes)
        let denseBytes = layerRows.compactMap(\.denseBytes)
        let shape = ModelShape(
            name: meta["model"] ?? "unknown", layers: layers, experts: try int("experts"), topK: try int("top_k"),
            nativeTopK: try optionalInt("native_top_k"), sharedExperts: try int("shared_experts"),
            hiddenSize: try optionalInt("hidden_size"), expertIntermediateSize: try optionalInt("expert_intermediate_size"),
            modelLayers: layerRows.map(\.modelLayer),
            expertBytes: expertBytes.count == layers ? expertBytes : nil,
            denseBytes: denseBytes.count == layers ? denseBytes : nil, expertDType: meta["expert_dtype"])
        try shape.validate(file: file)
        var metadata = TraceMetadata(
            shape: shape, hasWeights: try int("has_weights") == 1, synthetic: try int("synthetic") == 1,
            source: meta["source"] ?? "", license: meta["license"] ?? "unknown", notes: meta["notes"] ?? "",
            importer: meta["importer"] ?? "", createdBy: meta["created_by"] ?? "")
        metadata.absentDecisions = try optionalInt("absent_decisions") ?? 0
        metadata.formatVersion = version
        if version <= 2, (metadata.absentDecisions > 0) != (version == 2) {
            throw fail("format_version", "is \(version), but the file has \(metadata.absentDecisions) absent decisions (before version 3, version 2 exactly when some are absent)")
        }
        metadata.tokens = try int("tokens")
        metadata.prefillTokens = try int("prefill_tokens")
        metadata.decodeTokens = try int("decode_tokens")
        metadata.sequences = try int("sequences")
        metadata.chunks = try int("chunks")
        metadata.chunkTokens = try int("chunk_tokens")
        guard metadata.chunkTokens <= ValidRange.chunkTokens.upperBound,
              metadata.chunkTokens * shape.decisionsPerToken <= ValidRange.chunkDecisions else {
            throw fail("chunk_tokens", "is \(metadata.chunkTokens): chunks of up to \(ValidRange.chunkTokens.upperBound) tokens and \(ValidRange.chunkDecisions) decisions (tokens × layers × top-k) are read")
        }
        if let lookaheads = meta["prediction_lookaheads"], !lookaheads.isEmpty {
            metadata.predictionLookaheads = try lookaheads.split(separator: ",").map {
                guard let d = Int($0), (0..<layers).contains(d) else {
                    throw fail("prediction_lookaheads", "holds '\($0)'; valid: lookaheads of 0…\(layers - 1) layers")
                }
                return d
            }
            metadata.predictionWidth = try int("prediction_width")
            guard (1...shape.experts).contains(metadata.predictionWidth) else {
                throw fail("prediction_width", "is \(metadata.predictionWidth); valid: 1…\(shape.experts) experts")
            }
        }
        guard metadata.prefillTokens + metadata.decodeTokens == metadata.tokens else {
            throw fail("tokens", "is \(metadata.tokens) but prefill + decode = \(metadata.prefillTokens + metadata.decodeTokens)")
        }
        return metadata
    }
}
