import OffloadSim
import Policies
import TestSupport
import TraceStore

/// Traces written through the real writer for predictor and policy tests.
enum PolicyFixtures {
    /// Writes `sequences` (each a list of tokens' ids, layer by layer) as a decode-only trace.
    static func trace(_ sequences: [[[UInt16]]], layers: Int, experts: Int, topK: Int, expertBytes: Int = 1_000_000,
                      phase: Phase = .decode) throws -> TraceReader {
        let path = Repository.temporaryFolder() + "/policy.sqlite"
        let shape = ModelShape(name: "hand", layers: layers, experts: experts, topK: topK,
                               expertBytes: Array(repeating: expertBytes, count: layers))
        let meta = TraceMetadata(shape: shape, hasWeights: false, synthetic: true, source: "policy test", importer: "test")
        let writer = try TraceWriter(path: path, metadata: meta, options: .init(chunkTokens: 64, compressionLevel: 1))
        for (index, tokens) in sequences.enumerated() {
            writer.beginSequence(name: "s\(index)")
            for ids in tokens { try writer.appendToken(phase: phase, ids: ids) }
        }
        _ = try writer.finish()
        return try TraceReader(path: path)
    }

    /// The real ESFT trace imported once per test process, or nil (the test skips, saying so).
    static let esft: String? = {
        guard let shared = Repository.requireShared() else { return nil }
        let output = Repository.temporaryFolder() + "/esft.sqlite"
        _ = try? TraceImport.run(format: .esft, inputs: [shared + "/esft-deepseek-v2-lite"], output: output, options: ImportOptions())
        return output
    }()
}
