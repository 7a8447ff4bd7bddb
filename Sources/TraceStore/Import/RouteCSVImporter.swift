/// llama.cpp-style route traces (github.com/Helldez/BigMoeOnEdge, `route_trace v1`).
///
/// `#` header lines give `arch`, `n_layer`, `n_expert`, `n_expert_used` and, per layer,
/// `expert_bytes` and `dense_bytes` (the quantised sizes the engine read). Then CSV
/// `turn,phase,step,layer,slot,expert,weight,residency,expert_bytes`: one row per routed
/// expert; phase 0 prefill, 1 decode; step is the token. Each turn becomes a sequence.
/// Prefill rows come layer by layer (a batch per layer), decode rows token by token, so a
/// turn is assembled whole before it is written (memory: one turn).
/// `residency` and the per-row bytes describe that engine's own cache and are not kept.
struct RouteCSVImporter: RoutingImporter {
    let inputs: [String]
    let options: ImportOptions

    /// What the header of one file says.
    struct Header: Equatable {
        var model = ""
        var arch = ""
        var layers = 0
        var experts = 0
        var topK = 0
        var expertBytes: [Int: Int] = [:]
        var denseBytes: [Int: Int] = [:]
    }

    /// One body line, as the line reader's closure sees it.
    enum Row {
        case skip
        case malformed
        case values([Int?], Double?)
    }

    static let columns = ["turn", "phase", "step", "layer", "slot", "expert", "weight", "residency", "expert_bytes"]

    func header(of file: String) throws -> Header {
        let reader = try LineReader(path: file)
        var header = Header()
        var sawColumns = false
        while let line = try reader.nextLine({ TextFields.utf8($0) }) {
            guard let line else {
                throw TraceStoreError(file: file, place: "line \(reader.lineNumber)", problem: "is not UTF-8 text", fix: "Route CSVs are ASCII text; check --format.")
            }
            guard line.hasPrefix("#") else {
                sawColumns = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } == Self.columns
                guard sawColumns else {
                    throw TraceStoreError(file: file, place: "line \(reader.lineNumber)", problem: "is not the route CSV column header",
                                          fix: "Expected '\(Self.columns.joined(separator: ","))'; check --format.")
                }
                break
            }
            var pairs: [String: String] = [:]
            for word in line.dropFirst().split(separator: " ") {
                let parts = word.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { pairs[String(parts[0])] = String(parts[1]) }
            }
            if let layer = pairs["layer"].flatMap(Int.init) {
                guard let bytes = pairs["expert_bytes"].flatMap(Int.init), bytes > 0 else {
                    throw TraceStoreError(file: file, place: "line \(reader.lineNumber)", problem: "gives layer \(layer) without a positive expert_bytes",
                                          fix: "Each '# layer=' line needs expert_bytes=N.")
                }
                header.expertBytes[layer] = bytes
                header.denseBytes[layer] = pairs["dense_bytes"].flatMap(Int.init)
            } else if let layers = pairs["n_layer"].flatMap(Int.init) {
                header.layers = layers
                header.experts = pairs["n_expert"].flatMap(Int.init) ?? 0
                header.topK = pairs["n_expert_used"].flatMap(Int.init) ?? 0
                header.arch = pairs["arch"] ?? ""
                header.model = pairs["model"].map(lastComponent) ?? ""
            }
        }
        guard sawColumns else {
            throw TraceStoreError(file: file, problem: reader.lineNumber == 0 ? "is empty" : "has no CSV column header after its '#' lines",
                                  fix: "Check the file is a complete route CSV (see traces/FORMAT.md).")
        }
        guard header.layers > 0, header.experts > 0, header.topK > 0 else {
            throw TraceStoreError(file: file, place: "header", problem: "lacks n_layer, n_expert or n_expert_used",
                                  fix: "The '# model=… n_layer=… n_expert=… n_expert_used=…' line is required.")
        }
        return header
    }

    /// The preset the header's model matches, when there is one.
    func matchingPreset(_ header: Header) -> ModelPreset? {
        if let model = options.model { return model }
        let byArch: [String: [String]] = ["qwen3moe": ["qwen3-30b-a3b"], "gpt-oss": ["gpt-oss-120b", "gpt-oss-20b"], "olmoe": ["olmoe-1b-7b"]]
        return byArch[header.arch]?.compactMap(ModelPreset.named).first {
            $0.moeLayers.count == header.layers && $0.experts == header.experts
        }
    }

    func prepare() throws -> TraceMetadata {
        let headers = try inputs.map(header(of:))
        for (file, other) in zip(inputs.dropFirst(), headers.dropFirst()) where other.layers != headers[0].layers || other.experts != headers[0].experts || other.topK != headers[0].topK {
            throw TraceStoreError(file: file, place: "header", problem: "has a different model shape from \(inputs[0])",
                                  fix: "Import each model's route CSVs into its own trace.")
        }
        let header = headers[0]
        guard (0..<header.layers).allSatisfy({ header.expertBytes[$0] != nil }) else {
            throw TraceStoreError(file: inputs[0], place: "header", problem: "gives expert_bytes for \(header.expertBytes.count) of \(header.layers) layers",
                                  fix: "Every layer needs a '# layer=L expert_bytes=N' line.")
        }
        let preset = matchingPreset(header)
        if let preset, preset.moeLayers.count != header.layers || preset.experts != header.experts {
            throw TraceStoreError(file: inputs[0], place: "header", problem: "has \(header.layers) layers × \(header.experts) experts but --model \(preset.name) has \(preset.moeLayers.count) × \(preset.experts)",
                                  fix: "Drop --model (the header carries the shape) or name the right model.")
        }
        let dtype = header.model.split(separator: "-").last.map { $0.replacingOccurrences(of: ".gguf", with: "") }
        let dense = (0..<header.layers).compactMap { header.denseBytes[$0] }
        let shape = ModelShape(
            name: preset?.name ?? (header.model.isEmpty ? header.arch : header.model),
            layers: header.layers, experts: header.experts, topK: header.topK,
            nativeTopK: preset.flatMap { $0.topK == header.topK ? nil : $0.topK },
            sharedExperts: preset?.sharedExperts ?? 0, hiddenSize: preset?.hiddenSize,
            expertIntermediateSize: preset?.expertIntermediateSize, modelLayers: preset?.moeLayers,
            expertBytes: (0..<header.layers).map { header.expertBytes[$0]! },
            denseBytes: dense.count == header.layers ? dense : nil, expertDType: dtype)
        var notes = "Recorded by a llama.cpp-based offloading engine (\(header.model.isEmpty ? header.arch : header.model)); expert and dense bytes are the quantised sizes from the header."
        if let native = shape.nativeTopK {
            notes += " The run overrode top-k: \(header.topK) experts per token where the model's native top-k is \(native)."
        }
        return TraceMetadata(
            shape: shape, hasWeights: true, synthetic: false,
            source: "github.com/Helldez/BigMoeOnEdge docs/bench-data/2026-07-15-route-trace (\(inputs.map(lastComponent).joined(separator: ", ")))",
            license: "Apache-2.0", notes: notes, importer: ImportFormat.routeCSV.rawValue)
    }

    func read(into sink: TraceSink, metadata: TraceMetadata) throws {
        let header = try header(of: inputs[0])
        let layers = header.layers, k = header.topK
        for file in inputs {
            let reader = try LineReader(path: file)
            var tokens: [Int: TokenAssembly] = [:]
            var openTurn: Int?
            var inBody = false
            func flush() throws {
                guard let turn = openTurn else { return }
                sink.beginSequence(name: "\(lastComponent(file)) turn \(turn)")
                for step in tokens.keys.sorted() {
                    let token = tokens[step]!
                    let why = token.phase == .prefill && token.missingLayer() == layers - 1 && token.slotsFilled(layers - 1) == 0
                        ? " (llama.cpp computes the last layer for the last prompt token only)" : ""
                    try sink.append(token, withWeights: true, lenient: options.lenient, file: file, place: "turn \(turn), step \(step)", why: why)
                }
                tokens.removeAll(keepingCapacity: true)
            }
            while let row = try reader.nextLine({ line -> Row in
                if !inBody {
                    if line.first != 0x23 { inBody = true }
                    return .skip
                }
                let fields = TextFields.split(line, separator: 0x2C)
                guard fields.count == Self.columns.count else { return .malformed }
                return .values(fields[0..<6].map { TextFields.int($0) }, TextFields.double(fields[6]))
            }) {
                guard case let .values(values, weight) = row else {
                    if case .skip = row { continue }
                    throw TraceStoreError(file: file, place: "line \(reader.lineNumber)", problem: "does not have \(Self.columns.count) comma-separated fields",
                                          fix: "Each row is \(Self.columns.joined(separator: ",")).")
                }
                guard let turn = values[0], let phaseCode = values[1], let step = values[2], let layer = values[3], let slot = values[4],
                      let expert = values[5], let weight, phaseCode <= 1, let phase = Phase(rawValue: UInt8(phaseCode))
                else {
                    throw TraceStoreError(file: file, place: "line \(reader.lineNumber)", problem: "has a field that is not a number (or a phase other than 0/1)",
                                          fix: "Each row is \(Self.columns.joined(separator: ",")) with integer ids and a decimal weight.")
                }
                guard layer < layers, slot < k else {
                    throw TraceStoreError(file: file, place: "line \(reader.lineNumber)", problem: "names layer \(layer), slot \(slot) outside \(layers) layers × top-\(k)",
                                          fix: "The header's n_layer and n_expert_used must cover every row (inconsistent top-k).")
                }
                guard expert < header.experts else {
                    throw TraceStoreError(file: file, place: "line \(reader.lineNumber)", problem: "routes to expert \(expert), outside 0..<\(header.experts)",
                                          fix: "Check the header's n_expert.")
                }
                if turn != openTurn {
                    try flush()
                    openTurn = turn
                }
                var token = tokens[step] ?? TokenAssembly(layers: layers, topK: k)
                if tokens[step] == nil { token.phase = phase }
                guard token.phase == phase else {
                    throw TraceStoreError(file: file, place: "line \(reader.lineNumber)", problem: "gives step \(step) phase \(phaseCode) where earlier rows gave it another",
                                          fix: "All rows of one step share its phase.")
                }
                guard token.set(layer: layer, slot: slot, expert: UInt16(expert), weight: Float(weight)) else {
                    throw TraceStoreError(file: file, place: "line \(reader.lineNumber)", problem: "repeats layer \(layer), slot \(slot) of step \(step)",
                                          fix: "Each (turn, step, layer, slot) appears once; remove the duplicate row.")
                }
                tokens[step] = token
            }
            try flush()
        }
    }
}
