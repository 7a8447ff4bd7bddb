import OffloadSim
import Policies
import TestSupport
import TraceStore

/// Traces written through the real writer for predictor and policy tests.
enum PolicyFixtures {
    /// Writes `sequences` (each a list of tokens' ids, layer by layer): the first `prompt`
    /// tokens of each as prefill, the rest in `phase`.
    static func trace(_ sequences: [[[UInt16]]], layers: Int, experts: Int, topK: Int, expertBytes: Int = 1_000_000,
                      phase: Phase = .decode, weights: [Float]? = nil, prompt: Int = 0) throws -> TraceReader {
        let path = Repository.temporaryFolder() + "/policy.sqlite"
        let shape = ModelShape(name: "hand", layers: layers, experts: experts, topK: topK,
                               expertBytes: Array(repeating: expertBytes, count: layers))
        let meta = TraceMetadata(shape: shape, hasWeights: weights != nil, synthetic: true, source: "policy test", importer: "test")
        let writer = try TraceWriter(path: path, metadata: meta, options: .init(chunkTokens: 64, compressionLevel: 1))
        for (index, tokens) in sequences.enumerated() {
            writer.beginSequence(name: "s\(index)")
            for (index, ids) in tokens.enumerated() {
                try writer.appendToken(phase: index < prompt ? .prefill : phase, ids: ids, weights: weights)
            }
        }
        _ = try writer.finish()
        return try TraceReader(path: path)
    }

    /// A synthetic Qwen3-30B-A3B trace (native top-8, bf16 experts) of `sequences` × (2 prompt + `decode`) tokens.
    static func qwenSynthetic(sequences: Int = 2, decode: Int = 63) throws -> TraceReader {
        let path = Repository.temporaryFolder() + "/qwen-synth.sqlite"
        _ = try TraceSynthesis.run(.init(model: ModelPreset.named("qwen3-30b-a3b"), tokens: sequences * (2 + decode), seed: 3,
                                         like: nil, prefill: 2, decode: decode), output: path)
        return try TraceReader(path: path)
    }

    /// Simulates `spec` over `reader` with `model` on `profile`.
    static func run(_ spec: PolicySpec, _ reader: TraceReader, profile: HardwareProfile, model: ModelCost? = nil,
                    cacheBytes: Int? = nil, split: SequenceSplit? = nil, engine: ServingEngine = .moesim) throws -> PolicyCatalog.Result {
        let cost = try model ?? ModelCost.resolve(shape: reader.metadata.shape, preset: ModelPreset.named(reader.metadata.shape.name))
        let base = SimulationRun(source: reader, model: cost, profile: profile, options: SimulationOptions(engine: engine))
        return try PolicyCatalog.run(spec, base, overrides: .init(cacheBytes: cacheBytes, split: split))
    }

    /// The real ESFT trace imported once per test process, or nil (the test skips, saying so).
    static let esft: String? = {
        guard let shared = Repository.requireShared() else { return nil }
        let output = Repository.temporaryFolder() + "/esft.sqlite"
        _ = try? TraceImport.run(format: .esft, inputs: [shared + "/esft-deepseek-v2-lite"], output: output, options: ImportOptions())
        return output
    }()
}
