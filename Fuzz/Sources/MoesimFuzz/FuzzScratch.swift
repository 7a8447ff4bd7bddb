import Foundation
import TraceStore

/// The process's scratch folder and the small valid trace the edit targets start from:
/// 3 MoE layers × 8 experts, top-2, fp16 weights, recorded predictions at lookahead 1,
/// two sequences over three chunks. Written once, deterministically.
final class FuzzScratch: @unchecked Sendable {
    static let shared = FuzzScratch()

    /// A folder only this process uses.
    let folder: String
    /// The template trace.
    let template: String
    /// Where each input is written as a file.
    let input: String
    /// Where importers write.
    let output: String

    private init() {
        folder = NSTemporaryDirectory() + "moesim-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        template = folder + "/template.sqlite"
        input = folder + "/input"
        output = folder + "/output.sqlite"
        do {
            try Self.writeTemplate(at: template)
        } catch {
            fatalError("cannot write the template trace: \(error)")
        }
    }

    private static func writeTemplate(at path: String) throws {
        let shape = ModelShape(name: "fuzz", layers: 3, experts: 8, topK: 2, hiddenSize: 64, expertIntermediateSize: 32,
                               expertBytes: [4_096, 4_096, 8_192])
        var metadata = TraceMetadata(shape: shape, hasWeights: true, synthetic: true, source: "moesim fuzz template", importer: "fuzz")
        metadata.predictionLookaheads = [1]
        metadata.predictionWidth = 3
        let writer = try TraceWriter(path: path, metadata: metadata, options: .init(chunkTokens: 4, compressionLevel: 3))
        for s in 0..<2 {
            writer.beginSequence(name: "s\(s)")
            for t in 0..<5 {
                let ids = (0..<3).flatMap { l -> [UInt16] in
                    let a = UInt16((s * 3 + t + l) % 8)
                    return [a, (a + 1 + UInt16(l)) % 8]
                }
                let heavy = Float(0.75) - Float(t % 4) * 0.0625
                let weights: [Float] = [heavy, 0.25, heavy, 0.25, heavy, 0.25]
                let predicted: [UInt16] = (0..<9).map { UInt16((t + $0 / 3 + $0 % 3) % 8) }
                try writer.appendToken(phase: t < 2 ? .prefill : .decode, ids: ids, weights: weights, predictions: [predicted])
            }
        }
        _ = try writer.finish()
    }

    /// The template's bytes.
    private lazy var templateBytes = Array(FileManager.default.contents(atPath: template)!)

    /// A fresh copy of the template to edit.
    func templateCopy() -> String {
        let path = folder + "/edited.sqlite"
        write(templateBytes, to: path)
        return path
    }

    /// Writes `bytes` to `path`, replacing it; retried, since libFuzzer's timer signal can
    /// interrupt a write (EINTR), which is the harness's problem, not moesim's.
    func write(_ bytes: [UInt8], to path: String) {
        for _ in 0..<10 {
            if FileManager.default.createFile(atPath: path, contents: Data(bytes)) { return }
        }
        fatalError("cannot write \(path)")
    }
}
