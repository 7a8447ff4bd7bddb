import Foundation
import Testing
@testable import TraceStore

@Suite("Block bootstrap")
struct BlockBootstrapRoutingTests {
    @Test("writing the resampled tokens by copy gives the same file as appending each token it generates")
    func writeMatchesGenerate() throws {
        let folder = Fixtures.temporaryFolder()
        // A reference whose tokens lack layers, the first one included.
        let reference = try PreparedTokensTests.writer(at: folder + "/reference.sqlite", weights: true)
        for s in 0..<3 {
            reference.beginSequence(name: "r\(s)")
            for t in 0..<6 {
                try reference.appendToken(phase: t < 2 ? .prefill : .decode, ids: Fixtures.tinyIDs(sequence: s, token: t),
                                          weightBits: PreparedTokensTests.weightBits(token: t), absentLayers: PreparedTokensTests.absentLayers(token: t))
            }
        }
        try reference.finish()
        let routing = try BlockBootstrapRouting(reference: TraceReader(path: folder + "/reference.sqlite"), shape: Fixtures.tinyShape,
                                                seed: 9, jump: 0.3, shapes: nil)
        let metadata = TraceMetadata(shape: Fixtures.tinyShape, hasWeights: true, synthetic: true, source: "test", importer: "synth")
        let options = TraceWriter.Options(chunkTokens: 7, compressionLevel: 3)
        let copied = try TraceWriter(path: folder + "/copied.sqlite", metadata: metadata, options: options)
        try routing.write(tokens: 100, to: copied)
        let written = try copied.finish()
        let appended = try TraceWriter(path: folder + "/appended.sqlite", metadata: metadata, options: options)
        var open = -1
        try routing.generate(tokens: 100) { sequence, phase, ids, weightBits, absentLayers in
            if sequence != open {
                appended.beginSequence(name: BlockBootstrapRouting.sequenceName(sequence))
                open = sequence
            }
            try appended.appendToken(phase: phase, ids: ids, weightBits: weightBits, absentLayers: absentLayers)
        }
        try appended.finish()
        #expect(written.tokens == 100 && written.absentDecisions > 0)
        #expect(FileManager.default.contents(atPath: folder + "/copied.sqlite") == FileManager.default.contents(atPath: folder + "/appended.sqlite"))
    }
}
