import Foundation
import TestSupport
import Testing
import TraceStore

/// Paths, temporary folders and small generated traces shared by the tests.
enum Fixtures {
    /// The repository root.
    static let root = Repository.root

    /// `../shared/traces` beside the repository, when present.
    static let shared = Repository.sharedTraces

    /// Whether the real traces are present (tests that need them skip, saying so, when not).
    static var hasShared: Bool { Repository.requireShared() != nil }

    /// A fresh temporary folder.
    static func temporaryFolder() -> String { Repository.temporaryFolder() }

    /// Writes `text` to `name` in `folder` and returns the path.
    @discardableResult
    static func write(_ text: String, to name: String, in folder: String) -> String {
        let path = folder + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    /// A small shape: 3 layers × 8 experts, top-2.
    static let tinyShape = ModelShape(name: "tiny", layers: 3, experts: 8, topK: 2, expertBytes: [100, 100, 200])

    /// Ids of token t of sequence s of the tiny trace: deterministic and distinct per layer.
    static func tinyIDs(sequence s: Int, token t: Int) -> [UInt16] {
        (0..<3).flatMap { l -> [UInt16] in
            let a = UInt16((s * 3 + t + l) % 8)
            return [a, (a + 1 + UInt16(l)) % 8]
        }
    }

    /// Weights of the tiny trace: the first of each pair heavier.
    static func tinyWeights(token t: Int) -> [Float] {
        (0..<3).flatMap { _ in [Float(0.75) - Float(t % 4) * 0.0625, 0.25] }
    }

    /// Writes a tiny trace: `sequences` sequences of 2 prefill + `decode` decode tokens.
    @discardableResult
    static func tinyTrace(at path: String, sequences: Int = 3, decode: Int = 5, weights: Bool = true, chunkTokens: Int = 4) throws -> TraceMetadata {
        let metadata = TraceMetadata(shape: tinyShape, hasWeights: weights, synthetic: false, source: "test fixture", importer: "test")
        let writer = try TraceWriter(path: path, metadata: metadata, options: .init(chunkTokens: chunkTokens, compressionLevel: 3))
        for s in 0..<sequences {
            writer.beginSequence(name: "s\(s)")
            for t in 0..<(2 + decode) {
                try writer.appendToken(phase: t < 2 ? .prefill : .decode, ids: tinyIDs(sequence: s, token: t), weights: weights ? tinyWeights(token: t) : nil)
            }
        }
        return try writer.finish()
    }

    /// Every token of a trace as (sequence, phase, ids in rank order per layer, weights in rank order).
    static func tokens(of path: String) throws -> [(sequence: Int, phase: Phase, ids: [UInt16], weights: [Float])] {
        let reader = try TraceReader(path: path)
        let cursor = try reader.chunks()
        var chunk = cursor.makeChunk()
        var out: [(Int, Phase, [UInt16], [Float])] = []
        while try cursor.next(into: &chunk) {
            var token = 0
            for run in chunk.runs {
                for _ in 0..<run.tokens {
                    var ids: [UInt16] = [], weights: [Float] = []
                    for layer in 0..<chunk.layers {
                        let base = chunk.offset(token: token, layer: layer)
                        for slot in chunk.rankOrder(token: token, layer: layer) {
                            ids.append(chunk.ids[base + slot])
                            if chunk.hasWeights { weights.append(chunk.weight(token: token, layer: layer, slot: slot)) }
                        }
                    }
                    out.append((run.sequence, chunk.phase(token: token), ids, weights))
                    token += 1
                }
            }
        }
        return out
    }
}
