import OffloadSim
import TraceStore
import TOML

extension PolicySpec {
    /// Every key a policy file may hold.
    public static let tomlKeys = [
        "name", "description", "paper", "mechanism",
        "predictor.name", "predictor.recall", "predictor.layer_recall", "predictor.lookahead", "predictor.widen",
        "cache.mib", "cache.experts_per_layer", "cache.eviction", "cache.partitioned",
        "execution.order", "execution.exact_layers", "execution.low_precision_below", "execution.low_precision_ratio",
        "bus.chunk_bytes",
        "placement.gpus", "placement.interconnect_gbps", "placement.replicate", "placement.replica_slots",
        "speculative_decoding.draft_tokens", "speculative_decoding.draft_ns_per_token", "speculative_decoding.acceptance",
        "speculative_decoding.prefetch",
        "replication.memory_mib", "replication.threshold", "replication.max_copies", "replication.preload",
    ]

    /// Reads a policy file; errors give the line of the bad key and what is valid.
    public init(toml text: String, file: String) throws {
        func fail(_ line: Int, _ problem: String) -> TOMLFileError { TOMLFileError(file: file, line: line, problem: problem) }
        let doc = try TOMLDocument(parsing: text, file: file, allowed: Self.tomlKeys)
        func read<T>(_ key: String, _ reader: (String) throws -> T?) throws -> T? { try doc.read(key, file: file, reader) }
        func line(_ key: String) -> Int { doc.line(of: key) }
        func choice<T: RawRepresentable>(_ key: String, _ make: (String) -> T?, valid: [String]) throws -> T? where T.RawValue == String {
            guard let raw = try read(key, doc.string) else { return nil }
            guard let value = make(raw) else {
                throw fail(line(key), "'\(key)' is '\(raw)'; valid: \(valid.joined(separator: ", "))")
            }
            return value
        }
        guard let name = try read("name", doc.string) else { throw fail(0, "has no 'name'") }
        guard let mechanism = try choice("mechanism", Mechanism.init(rawValue:), valid: Mechanism.allCases.map(\.rawValue)) else {
            throw fail(0, "has no 'mechanism' (one of \(Mechanism.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.init(name: name, description: try read("description", doc.string) ?? "", paper: try read("paper", doc.string) ?? "",
                  mechanism: mechanism)
        predictor = try read("predictor.name", doc.string)
        if let predictor, !PredictorCatalog.names.contains(predictor) {
            throw fail(line("predictor.name"), "'predictor.name' is '\(predictor)'; valid: \(PredictorCatalog.names.joined(separator: ", "))")
        }
        if mechanism.usesPredictor && predictor == nil {
            throw fail(0, "mechanism '\(mechanism.rawValue)' needs 'predictor.name'")
        }
        func number(_ key: String, _ range: ClosedRange<Double>, rangeText: String? = nil) throws -> Double? {
            try read(key) { try doc.number($0, in: range, rangeText: rangeText ?? ValidRange.text(range)) }
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            try read(key) { try doc.integer($0, in: range) }
        }
        recall = try number("predictor.recall", ValidRange.recall)
        layerRecall = try read("predictor.layer_recall", doc.numbers)
        if let layerRecall, layerRecall.isEmpty || !layerRecall.allSatisfy({ ValidRange.recall.contains($0) }) {
            throw fail(line("predictor.layer_recall"), "'predictor.layer_recall' must list recalls within 0…1")
        }
        // The upper bound depends on the model: checked against its layers when the policy runs.
        lookahead = try integer("predictor.lookahead", 1...4_096) ?? 1
        widen = try number("predictor.widen", ValidRange.widen) ?? 1
        cacheMiB = try number("cache.mib", Double.leastNonzeroMagnitude...ValidRange.cacheMiB.upperBound,
                              rangeText: "above 0 up to \(ValidRange.text(ValidRange.cacheMiB).split(separator: "…").last!)")
        cacheExpertsPerLayer = try integer("cache.experts_per_layer", 1...65_535)
        eviction = try choice("cache.eviction", EvictionPolicy.init(rawValue:), valid: EvictionPolicy.allCases.map(\.rawValue))
        partitioned = try read("cache.partitioned", doc.bool) ?? false
        order = try choice("execution.order", ExpertOrder.init(rawValue:), valid: ["ascending", "resident-first"]) ?? .ascendingID
        // Only the prefetch mechanism runs a layer's experts in another order; elsewhere the key would be ignored.
        guard order == .ascendingID || mechanism == .prefetch else {
            throw fail(line("execution.order"), "'execution.order = \"resident-first\"' is read only by mechanism \"prefetch\"; mechanism \"\(mechanism.rawValue)\" runs a layer's experts in ascending id order. Remove the line or use mechanism = \"prefetch\"")
        }
        let layers = try read("execution.exact_layers", doc.numbers) ?? []
        guard layers.allSatisfy({ $0 >= 0 && $0 < 4_096 && $0 == $0.rounded() }) else {
            throw fail(line("execution.exact_layers"), "'execution.exact_layers' must list layer numbers 0…4095")
        }
        exactLayers = layers.map { Int($0) }
        lowPrecisionBelow = try number("execution.low_precision_below", 0...1) ?? 0.1
        lowPrecisionRatio = try number("execution.low_precision_ratio", 1e-3...1) ?? 4.25 / 16
        chunkBytes = try integer("bus.chunk_bytes", ValidRange.chunkBytes)
        gpus = try integer("placement.gpus", 1...1_024) ?? 4
        interconnectGBps = try number("placement.interconnect_gbps", ValidRange.gbps) ?? 450
        replicate = try read("placement.replicate", doc.bool) ?? false
        replicaSlots = try integer("placement.replica_slots", 0...65_535) ?? 2
        draftTokens = try integer("speculative_decoding.draft_tokens", 1...64) ?? 4
        draftNanosecondsPerToken = Int(try number("speculative_decoding.draft_ns_per_token", 1...Double(ValidRange.costNs.upperBound)) ?? 2_000_000)
        acceptance = try number("speculative_decoding.acceptance", 0...1) ?? 0.7
        prefetchDuringDraft = try read("speculative_decoding.prefetch", doc.bool) ?? true
        replicaMemoryMiB = try number("replication.memory_mib", 0...ValidRange.cacheMiB.upperBound) ?? 4_096
        replicaThreshold = try number("replication.threshold", 0...1_000) ?? 1
        maxCopies = try integer("replication.max_copies", 0...1_024) ?? 0
        preloadExperts = try read("replication.preload", doc.bool) ?? false
        if mechanism.predictsWholeBatch, let predictor, !["oracle", "parametric"].contains(predictor) {
            throw fail(line("predictor.name"), "\(mechanism.rawValue) predicts the batch's experts before any of its layers has run; use 'oracle' or 'parametric'")
        }
    }

    /// The spec as a policy file.
    public var tomlText: String {
        var lines = [
            "# moesim policy (run with --policy \(name), or --policy PATH for an edited copy)",
            "name = \(TOMLValue.quoted(name))",
            "description = \(TOMLValue.quoted(description))",
            "paper = \(TOMLValue.quoted(paper))",
            "mechanism = \(TOMLValue.quoted(mechanism.rawValue))   # \(Mechanism.allCases.map(\.rawValue).joined(separator: " | "))",
        ]
        if let predictor {
            lines += ["", "[predictor]", "name = \(TOMLValue.quoted(predictor))   # \(PredictorCatalog.names.joined(separator: " | "))"]
            if let recall { lines.append("recall = \(TOMLValue.float(recall))") }
            if let layerRecall { lines.append("layer_recall = \(TOMLValue.array(layerRecall.map { .float($0) }))   # per target layer") }
            lines += ["lookahead = \(lookahead)", "widen = \(TOMLValue.float(widen))"]
        }
        var cache: [String] = []
        if let cacheMiB { cache.append("mib = \(TOMLValue.float(cacheMiB))") }
        if let cacheExpertsPerLayer { cache.append("experts_per_layer = \(cacheExpertsPerLayer)") }
        if let eviction { cache.append("eviction = \(TOMLValue.quoted(eviction.rawValue))") }
        if partitioned { cache.append("partitioned = true") }
        if !cache.isEmpty { lines += ["", "[cache]                # --cache-mib on the command line overrides the size"] + cache }
        var execution: [String] = []
        if order != .ascendingID { execution.append("order = \(TOMLValue.quoted(order.rawValue))") }
        if !exactLayers.isEmpty { execution.append("exact_layers = \(TOMLValue.array(exactLayers.map { .integer($0) }))") }
        if mechanism == .lowPrecision {
            execution.append("low_precision_below = \(TOMLValue.float(lowPrecisionBelow))")
            execution.append("low_precision_ratio = \(TOMLValue.float(lowPrecisionRatio))")
        }
        if !execution.isEmpty { lines += ["", "[execution]"] + execution }
        if let chunkBytes { lines += ["", "[bus]", "chunk_bytes = \(chunkBytes)"] }
        if mechanism == .speculativeDecoding {
            lines += ["", "[speculative_decoding]", "draft_tokens = \(draftTokens)",
                      "draft_ns_per_token = \(draftNanosecondsPerToken)   # draft model time per token",
                      "acceptance = \(TOMLValue.float(acceptance))", "prefetch = \(prefetchDuringDraft)   # prefetch the target's predicted experts from drafting on, up to the latency-model cutoff layer (SP-MoE)"]
        }
        if mechanism == .predictiveReplication {
            lines += ["", "[replication]", "memory_mib = \(TOMLValue.float(replicaMemoryMiB))   # all replicas together",
                      "threshold = \(TOMLValue.float(replicaThreshold))   # replicate while predicted tokens per copy > (1 + threshold) × the layer's mean",
                      "max_copies = \(maxCopies)   # copies of one expert, original included (0: the engine's streams)",
                      "preload = \(preloadExperts)   # every expert on the GPU before the first batch (loading left out of the timing)"]
        }
        if mechanism == .expertParallel {
            lines += ["", "[placement]", "gpus = \(gpus)", "interconnect_gbps = \(TOMLValue.float(interconnectGBps))   # per direction (NVLink 4: 450)",
                      "replicate = \(replicate)", "replica_slots = \(replicaSlots)   # extra expert copies per GPU per layer"]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
