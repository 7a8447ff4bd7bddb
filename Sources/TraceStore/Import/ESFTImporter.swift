/// DeepSeek ESFT expert scores (github.com/deepseek-ai/ESFT, `results/expert_scores/`).
///
/// A task folder holds `expert_weights_<1..L>.txt`, one file per MoE layer. Line i of
/// every file is sequence i: its T×k expert ids, tab-separated, then an empty field,
/// then its T×k gate probabilities (softmax over all experts, not renormalised over the
/// top-k). Inputs are task folders, or a folder of task folders. All tokens are prefill
/// (teacher-forced forward passes).
struct ESFTImporter: RoutingImporter {
    let inputs: [String]
    let options: ImportOptions

    private var preset: ModelPreset { TraceImport.preset(options, default: "deepseek-v2-lite") }

    /// The task folders, each with its layer files in layer order.
    func tasks() throws -> [(name: String, files: [String])] {
        var tasks: [(String, [String])] = []
        for input in inputs {
            guard TraceImport.isFolder(input) else {
                throw TraceStoreError(file: input, problem: "is not a folder", fix: "Pass ESFT task folders (holding expert_weights_<layer>.txt) or their parent folder.")
            }
            let entries = try TraceImport.contents(of: input)
            if entries.contains(where: { $0.hasPrefix("expert_weights_") }) {
                tasks.append((lastComponent(input), try layerFiles(in: input, entries: entries)))
            } else {
                for entry in entries where TraceImport.isFolder(input + "/" + entry) {
                    let folder = input + "/" + entry
                    tasks.append((entry, try layerFiles(in: folder, entries: try TraceImport.contents(of: folder))))
                }
            }
        }
        guard !tasks.isEmpty else {
            throw TraceStoreError(file: inputs.joined(separator: ", "), problem: "holds no expert_weights_<layer>.txt files",
                                  fix: "Pass ESFT task folders such as ../shared/traces/esft-deepseek-v2-lite/intent.")
        }
        return tasks
    }

    private func layerFiles(in folder: String, entries: [String]) throws -> [String] {
        var layers: [Int: String] = [:]
        for entry in entries where entry.hasPrefix("expert_weights_") && entry.hasSuffix(".txt") {
            let number = entry.dropFirst("expert_weights_".count).dropLast(4)
            guard let layer = Int(number) else { continue }
            layers[layer] = folder + "/" + entry
        }
        let expected = preset.moeLayers.count
        guard layers.count == expected, (1...expected).allSatisfy({ layers[$0] != nil }) else {
            throw TraceStoreError(file: folder, problem: "has layer files \(layers.keys.sorted().map(String.init).joined(separator: ",")) where expert_weights_1…\(expected).txt were expected for \(preset.name)",
                                  fix: "Pass a complete task folder, or the right --model.")
        }
        return (1...expected).map { layers[$0]! }
    }

    func prepare() throws -> TraceMetadata {
        _ = try tasks()
        return TraceMetadata(
            shape: preset.shape(), hasWeights: true, synthetic: false,
            source: "github.com/deepseek-ai/ESFT results/expert_scores (ESFT-vanilla-lite, DeepSeek-V2-Lite architecture)",
            license: "MIT (code licence of the repository)",
            notes: "Prefill only (teacher-forced forward passes over chat samples). Gate weights are softmax probabilities over all \(preset.experts) experts, not renormalised over the top-\(preset.topK).",
            importer: ImportFormat.esft.rawValue)
    }

    func read(into sink: TraceSink, metadata: TraceMetadata) throws {
        let k = preset.topK
        let layers = preset.moeLayers.count
        for task in try tasks() {
            let readers = try task.files.map { try LineReader(path: $0) }
            var ids: [[UInt16]] = Array(repeating: [], count: layers)
            var weights: [[Float]] = Array(repeating: [], count: layers)
            var sequence = 0
            while true {
                var ended = 0
                for (layer, reader) in readers.enumerated() {
                    let read: Void? = try reader.nextLine { line in
                        try parse(line, file: reader.path, lineNumber: reader.lineNumber, k: k, ids: &ids[layer], weights: &weights[layer])
                    }
                    if read == nil { ended += 1 }
                }
                if ended == layers { break }
                guard ended == 0 else {
                    throw TraceStoreError(file: task.files[0], place: "line \(sequence + 1)",
                                          problem: "the layer files of task '\(task.name)' have different numbers of lines",
                                          fix: "Each expert_weights file must hold one line per sequence; restore the truncated file.")
                }
                let tokens = ids[0].count / k
                for layer in 1..<layers where ids[layer].count != ids[0].count {
                    throw TraceStoreError(file: task.files[layer], place: "line \(sequence + 1)",
                                          problem: "holds \(ids[layer].count / k) tokens where layer 1 holds \(tokens)",
                                          fix: "Line i of every layer file must be the same sequence; check the files belong together.")
                }
                sink.beginSequence(name: "\(task.name)/\(sequence)")
                var tokenIDs = [UInt16](repeating: 0, count: layers * k)
                var tokenWeights = [Float](repeating: 0, count: layers * k)
                for t in 0..<tokens {
                    for layer in 0..<layers {
                        for r in 0..<k {
                            tokenIDs[layer * k + r] = ids[layer][t * k + r]
                            tokenWeights[layer * k + r] = weights[layer][t * k + r]
                        }
                    }
                    try sink.append(phase: .prefill, ids: tokenIDs, weights: tokenWeights,
                                    file: task.files[0], place: "line \(sequence + 1), token \(t)")
                }
                sequence += 1
            }
            guard sequence > 0 else {
                throw TraceStoreError(file: task.files[0], problem: "is empty", fix: "Restore the ESFT files; every layer file needs one line per sequence.")
            }
        }
    }

    /// Parses one line: ids, an empty field, weights.
    private func parse(
        _ line: UnsafeBufferPointer<UInt8>, file: String, lineNumber: Int, k: Int, ids: inout [UInt16], weights: inout [Float]
    ) throws {
        ids.removeAll(keepingCapacity: true)
        weights.removeAll(keepingCapacity: true)
        let fields = TextFields.split(line, separator: 0x09)
        guard let gap = fields.firstIndex(where: { $0.isEmpty }) else {
            throw TraceStoreError(file: file, place: "line \(lineNumber)", problem: "has no empty field between the expert ids and the weights",
                                  fix: "ESFT lines are ids, two tabs, weights; check --format.")
        }
        for (i, field) in fields[..<gap].enumerated() {
            guard let id = TextFields.int(field), id < 65_536 else {
                throw TraceStoreError(file: file, place: "line \(lineNumber), field \(i + 1)", problem: "'\(TextFields.show(field))' is not an expert id",
                                      fix: "Expert ids are non-negative integers; check the file is ESFT text and UTF-8/ASCII.")
            }
            ids.append(UInt16(id))
        }
        for (i, field) in fields[(gap + 1)...].enumerated() {
            guard let weight = TextFields.double(field) else {
                throw TraceStoreError(file: file, place: "line \(lineNumber), field \(gap + 2 + i)", problem: "'\(TextFields.show(field))' is not a gate weight",
                                      fix: "Weights are decimal numbers; check the file is ESFT text.")
            }
            weights.append(Float(weight))
        }
        guard !ids.isEmpty, ids.count % k == 0 else {
            throw TraceStoreError(file: file, place: "line \(lineNumber)", problem: "holds \(ids.count) expert ids, not a multiple of top-\(k) (inconsistent top-k)",
                                  fix: "Check --model: \(preset.name) routes each token to \(k) experts.")
        }
        guard weights.count == ids.count else {
            throw TraceStoreError(file: file, place: "line \(lineNumber)", problem: "holds \(ids.count) expert ids but \(weights.count) weights",
                                  fix: "The line is damaged; restore it from the source.")
        }
    }
}

/// The last path component of `path`.
func lastComponent(_ path: String) -> String {
    let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
    return trimmed.split(separator: "/").last.map(String.init) ?? trimmed
}
