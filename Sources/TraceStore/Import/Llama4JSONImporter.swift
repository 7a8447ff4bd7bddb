import Foundation

/// Llama-4 per-request step lists (the public "MoE_expert_selection_trace", arXiv 2510.05497).
///
/// One JSON file per request: a list of steps. Step 0 is the prompt (prefill), each later
/// step one generated token (decode). A step maps each model layer id ("0".."47") to
/// null (a dense layer) or a list with one entry per token of the step, each entry that
/// token's list of expert ids. No gate weights. Each file becomes a sequence.
struct Llama4JSONImporter: RoutingImporter {
    let inputs: [String]
    let options: ImportOptions

    private var preset: ModelPreset { TraceImport.preset(options, default: "llama-4-maverick") }

    func prepare() throws -> TraceMetadata {
        let files = try JSONInput.files(inputs, suffix: ".json")
        return TraceMetadata(
            shape: preset.shape(), hasWeights: false, synthetic: false,
            source: "MoE_expert_selection_trace (arXiv 2510.05497), via github.com/andronius-yang/cse223b-proj traffic-gen (\(files.count) requests)",
            license: "unknown (no licence file)",
            notes: "Step 0 of each request is its prompt (prefill); each later step is one decode token. No gate weights recorded.",
            importer: ImportFormat.llama4JSON.rawValue)
    }

    func read(into sink: TraceSink, metadata: TraceMetadata) throws {
        let moeLayers = preset.moeLayers
        let k = preset.topK
        for file in try JSONInput.files(inputs, suffix: ".json") {
            guard let steps = try JSONInput.document(file) as? [Any], !steps.isEmpty else {
                throw TraceStoreError(file: file, problem: "is not a non-empty JSON list of steps", fix: "Each request file is a list of step objects; check --format.")
            }
            sink.beginSequence(name: lastComponent(file))
            var ids = [UInt16](repeating: 0, count: moeLayers.count * k)
            for (stepIndex, value) in steps.enumerated() {
                guard let step = value as? [String: Any] else {
                    throw TraceStoreError(file: file, place: "step \(stepIndex)", problem: "is not an object of layer ids", fix: "Check --format.")
                }
                let routed = step.compactMap { key, value -> Int? in value is NSNull ? nil : Int(key) }.sorted()
                guard routed == moeLayers else {
                    throw TraceStoreError(file: file, place: "step \(stepIndex)",
                                          problem: "routes layers \(routed.prefix(6).map(String.init).joined(separator: ","))… where \(preset.name) has MoE layers \(moeLayers.prefix(6).map(String.init).joined(separator: ","))…",
                                          fix: "Pass the right --model (see `moesim models`).")
                }
                var tokens: Int?
                var perLayer: [[Any]] = []
                for layer in moeLayers {
                    guard let entries = step[String(layer)] as? [Any] else {
                        throw TraceStoreError(file: file, place: "step \(stepIndex), layer \(layer)", problem: "is not a list of tokens", fix: "Check --format.")
                    }
                    if let tokens, tokens != entries.count {
                        guard options.lenient else {
                            throw TraceStoreError(file: file, place: "step \(stepIndex), layer \(layer)", problem: "has \(entries.count) tokens where other layers have \(tokens)",
                                                  fix: "Restore the file, or pass --lenient to skip the step.")
                        }
                    }
                    tokens = min(tokens ?? entries.count, entries.count)
                    perLayer.append(entries)
                }
                let phase: Phase = stepIndex == 0 ? .prefill : .decode
                let count = tokens ?? 0
                if perLayer.contains(where: { $0.count != count }) {
                    sink.skip("in steps whose layers disagree on the token count")
                    continue
                }
                for t in 0..<count {
                    for (l, entries) in perLayer.enumerated() {
                        guard let experts = entries[t] as? [Any], experts.count == k else {
                            throw TraceStoreError(file: file, place: "step \(stepIndex), layer \(moeLayers[l]), token \(t)",
                                                  problem: "does not hold exactly \(k) expert id(s) (inconsistent top-k)",
                                                  fix: "Check --model: \(preset.name) routes each token to \(k) expert(s).")
                        }
                        for (r, expert) in experts.enumerated() {
                            guard let id = JSONInput.int(expert), id < preset.experts else {
                                throw TraceStoreError(file: file, place: "step \(stepIndex), layer \(moeLayers[l]), token \(t)",
                                                      problem: "holds '\(expert)', not an expert id in 0..<\(preset.experts)",
                                                      fix: "Check --model and the file.")
                            }
                            ids[l * k + r] = UInt16(id)
                        }
                    }
                    try sink.append(phase: phase, ids: ids, weights: nil, file: file, place: "step \(stepIndex), token \(t)")
                }
            }
        }
    }
}
