import Foundation
import Testing
import TraceStore

/// Imports of the real traces in ../shared/traces (skipped, saying so, where absent).
@Suite("Importing the real traces")
struct RealTraceImportTests {
    @Test("ESFT: the first sequence's ids and weights read back equal the source text's")
    func esftFirstSequence() throws {
        guard Fixtures.hasShared, let shared = Fixtures.shared else { return }
        let task = shared + "/esft-deepseek-v2-lite/summary"
        let output = Fixtures.temporaryFolder() + "/esft.sqlite"
        let result = try TraceImport.run(format: .esft, inputs: [task], output: output, options: ImportOptions())
        #expect(result.metadata.shape.name == "deepseek-v2-lite")
        #expect(result.metadata.shape.layers == 26)
        #expect(result.metadata.tokens == 8479)
        #expect(result.metadata.decodeTokens == 0)
        let tokens = try Fixtures.tokens(of: output)
        for layer in [1, 13, 26] {
            let line = try String(contentsOfFile: task + "/expert_weights_\(layer).txt", encoding: .utf8).split(separator: "\n")[0]
            let parts = line.components(separatedBy: "\t\t")
            let ids = parts[0].split(separator: "\t").map { UInt16($0)! }
            let weights = parts[1].split(separator: "\t").map { Float(Double($0)!) }
            for t in [0, 1, ids.count / 6 - 1] {
                let source = (0..<6).map { (ids[t * 6 + $0], weights[t * 6 + $0]) }
                let read = (0..<6).map { (tokens[t].ids[(layer - 1) * 6 + $0], tokens[t].weights[(layer - 1) * 6 + $0]) }
                // Same experts; each with its weight at fp16 precision.
                #expect(Set(source.map(\.0)) == Set(read.map(\.0)))
                for (id, weight) in source {
                    let stored = read.first { $0.0 == id }!.1
                    #expect(stored == Float(Float16(weight)))
                }
            }
        }
    }

    @Test("the whole ESFT set imports to at most 0.45 B/decision for ids and 1.8 with weights")
    func esftSize() throws {
        guard Fixtures.hasShared, let shared = Fixtures.shared else { return }
        let output = Fixtures.temporaryFolder() + "/esft.sqlite"
        let result = try TraceImport.run(format: .esft, inputs: [shared + "/esft-deepseek-v2-lite"], output: output, options: ImportOptions())
        #expect(result.metadata.tokens == 33_279)
        #expect(result.metadata.sequences == 213)
        #expect(result.metadata.decisions == 33_279 * 26 * 6)
        let info = try TraceInfo(trace: TraceReader(path: output))
        #expect(info.bytesPerDecisionIds <= 0.45)
        #expect(info.bytesPerDecision <= 1.8)
    }

    @Test("route CSV: the header's quantised expert bytes and the top-k override are kept")
    func routeCSV() throws {
        guard Fixtures.hasShared, let shared = Fixtures.shared else { return }
        let output = Fixtures.temporaryFolder() + "/qwen.sqlite"
        let result = try TraceImport.run(format: .routeCSV, inputs: [shared + "/bigmoeonedge-route-csv/qwen.route.csv"], output: output,
                                         options: ImportOptions(lenient: true))
        let shape = result.metadata.shape
        #expect(shape.name == "qwen3-30b-a3b")
        #expect(shape.layers == 48 && shape.experts == 128 && shape.topK == 6)
        #expect(shape.nativeTopK == 8)
        #expect(shape.expertBytes?[0] == 3_059_712)
        #expect(shape.expertBytes?[6] == 2_654_208)
        #expect(shape.denseBytes?[0] == 11_953_152)
        #expect(result.metadata.decodeTokens == 128)
        // llama.cpp routes the last layer for the last prompt token only: the other 27 prompt
        // tokens are kept with layer 47 absent (format version 2), and counted.
        #expect(result.skipped.isEmpty)
        #expect(result.incompleteTokens == 27)
        #expect(result.metadata.prefillTokens == 28)
        #expect(result.metadata.absentDecisions == 27 * 6)
        #expect(result.metadata.formatVersion == 3)
        #expect(result.metadata.notes.contains("--lenient kept 27 tokens that lack some layers"))
        let first = try Fixtures.tokens(of: output).first { $0.phase == .decode }!
        // turn 0, step 28, layer 0 of qwen.route.csv: experts 60, 49, … in slot order (slot order is weight order there).
        #expect(Array(first.ids[0..<2]) == [60, 49])
    }

    @Test("route CSV without --lenient fails on the prompt tokens that lack the last layer, and writes nothing")
    func routeCSVStrict() throws {
        guard Fixtures.hasShared, let shared = Fixtures.shared else { return }
        let folder = Fixtures.temporaryFolder()
        let error = #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .routeCSV, inputs: [shared + "/bigmoeonedge-route-csv/qwen.route.csv"], output: folder + "/q.sqlite", options: ImportOptions())
        }
        #expect(error?.place == "turn 0, step 0")
        #expect(error?.problem.contains("layer 47") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test("Llama-4 JSON: step 0 is prefill, later steps decode, 24 MoE layers on the odd layers")
    func llama4() throws {
        guard Fixtures.hasShared, let shared = Fixtures.shared else { return }
        let file = shared + "/llama4-maverick-mmlu/abstract_algebra/17.json"
        let output = Fixtures.temporaryFolder() + "/l4.sqlite"
        let result = try TraceImport.run(format: .llama4JSON, inputs: [file], output: output, options: ImportOptions())
        let steps = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as! [[String: Any]]
        let promptTokens = (steps[0]["1"] as! [[Int]]).count
        #expect(result.metadata.prefillTokens == promptTokens)
        #expect(result.metadata.decodeTokens == steps.count - 1)
        #expect(result.metadata.shape.modelLayers == Array(stride(from: 1, to: 48, by: 2)))
        #expect(result.metadata.hasWeights == false)
        let tokens = try Fixtures.tokens(of: output)
        #expect(tokens[0].ids[0] == UInt16((steps[0]["1"] as! [[Int]])[0][0]))
        #expect(tokens[promptTokens].ids[23] == UInt16((steps[1]["47"] as! [[Int]])[0][0]))
    }

    @Test("Mixtral JSONL: tokens lacking layers fail by default and are kept with those layers absent under --lenient")
    func mixtral() throws {
        guard Fixtures.hasShared, let shared = Fixtures.shared else { return }
        let files = ["gsm8k_2_routing.jsonl", "humaneval_2_routing.jsonl"].map { shared + "/mixtral-8x7b-jsonl/" + $0 }
        let folder = Fixtures.temporaryFolder()
        let error = #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .mixtralJSONL, inputs: files, output: folder + "/m.sqlite", options: ImportOptions())
        }
        #expect(error?.problem.contains("has no complete routing for layer") == true)
        let result = try TraceImport.run(format: .mixtralJSONL, inputs: files, output: folder + "/m.sqlite", options: ImportOptions(lenient: true))
        // 247 + 338 (token, problem) pairs in the two files, of which 3 + 5 lack layers: kept.
        #expect(result.skipped.isEmpty)
        #expect(result.incompleteTokens == 8)
        #expect(result.metadata.tokens == 247 + 338)
        #expect(result.metadata.absentDecisions > 0)
        #expect(result.metadata.shape.experts == 8 && result.metadata.shape.topK == 2)
    }
}
