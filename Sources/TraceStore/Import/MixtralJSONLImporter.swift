import Foundation

/// Mixtral-8x7B routing as JSON Lines (github.com/Mario928/speculative-moe, early history).
///
/// One record per (token, layer): `{"dataset", "problem_id", "layer", "experts": [k ids],
/// "gating_probs": [k], "token_idx"}`, in any order. Each (dataset, problem_id) becomes
/// a sequence, its tokens in `token_idx` order. A file is read whole (they are a few MB);
/// tokens lacking some layers fail the import unless `--lenient` skips them. The source
/// does not say which tokens were prompt and which generated: all take `--phase`
/// (default decode), and the notes say so.
struct MixtralJSONLImporter: RoutingImporter {
    let inputs: [String]
    let options: ImportOptions

    private var preset: ModelPreset { TraceImport.preset(options, default: "mixtral-8x7b") }
    private var phase: Phase { options.phase ?? .decode }

    func prepare() throws -> TraceMetadata {
        let files = try JSONInput.files(inputs, suffix: ".jsonl")
        return TraceMetadata(
            shape: preset.shape(), hasWeights: true, synthetic: false,
            source: "github.com/Mario928/speculative-moe (Mixtral-8x7B-Instruct FP8 served by vLLM; \(files.map(lastComponent).joined(separator: ", ")))",
            license: "unknown (no licence file)",
            notes: "The source does not record prompt versus generated tokens; every token is marked \(phase).",
            importer: ImportFormat.mixtralJSONL.rawValue)
    }

    private struct Key: Hashable, Comparable {
        var dataset: String
        var problem: Int
        static func < (a: Key, b: Key) -> Bool { (a.dataset, a.problem) < (b.dataset, b.problem) }
    }

    func read(into sink: TraceSink, metadata: TraceMetadata) throws {
        let layers = preset.moeLayers.count, k = preset.topK
        for file in try JSONInput.files(inputs, suffix: ".jsonl") {
            let reader = try LineReader(path: file)
            var sequences: [Key: [Int: TokenAssembly]] = [:]
            var order: [Key] = []
            while let data = try reader.nextLine({ Data(buffer: $0) }) {
                let place = "line \(reader.lineNumber)"
                if data.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                guard let record = try JSONInput.parse(data, file: file, place: place) as? [String: Any] else {
                    throw TraceStoreError(file: file, place: place, problem: "is not a JSON object", fix: "Each line is one routing record; check --format.")
                }
                guard let problem = JSONInput.int(record["problem_id"]), let layer = JSONInput.int(record["layer"]),
                      let token = JSONInput.int(record["token_idx"]), let experts = record["experts"] as? [Any],
                      let probabilities = record["gating_probs"] as? [Any]
                else {
                    throw TraceStoreError(file: file, place: place, problem: "lacks problem_id, layer, token_idx, experts or gating_probs",
                                          fix: "Each record needs those keys; check --format.")
                }
                guard layer < layers else {
                    throw TraceStoreError(file: file, place: place, problem: "names layer \(layer), outside \(preset.name)'s \(layers) MoE layers",
                                          fix: "Pass the right --model.")
                }
                guard experts.count == k, probabilities.count == k else {
                    throw TraceStoreError(file: file, place: place, problem: "holds \(experts.count) experts and \(probabilities.count) probabilities where top-\(k) was expected (inconsistent top-k)",
                                          fix: "Pass the right --model.")
                }
                let key = Key(dataset: record["dataset"] as? String ?? "", problem: problem)
                if sequences[key] == nil {
                    sequences[key] = [:]
                    order.append(key)
                }
                var assembly = sequences[key]![token] ?? TokenAssembly(layers: layers, topK: k)
                for slot in 0..<k {
                    guard let id = JSONInput.int(experts[slot]), id < preset.experts, let weight = (probabilities[slot] as? NSNumber)?.doubleValue else {
                        throw TraceStoreError(file: file, place: place, problem: "holds an expert id outside 0..<\(preset.experts) or a weight that is not a number",
                                              fix: "Check --model and the record.")
                    }
                    guard assembly.set(layer: layer, slot: slot, expert: UInt16(id), weight: Float(weight)) else {
                        throw TraceStoreError(file: file, place: place, problem: "repeats layer \(layer) of token \(token) of problem \(problem)",
                                              fix: "Remove the duplicate record.")
                    }
                }
                sequences[key]![token] = assembly
            }
            guard !order.isEmpty else { throw TraceStoreError(file: file, problem: "is empty", fix: "Restore the file from its source.") }
            for key in order {
                let tokens = sequences.removeValue(forKey: key)!
                sink.beginSequence(name: "\(key.dataset)/\(key.problem)")
                for index in tokens.keys.sorted() {
                    var assembly = tokens[index]!
                    assembly.phase = phase
                    try sink.append(assembly, withWeights: true, lenient: options.lenient, file: file, place: "problem \(key.problem), token \(index)")
                }
            }
        }
    }
}
