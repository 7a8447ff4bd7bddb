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

    /// Token t of a reference of `shape`: ids distinct per layer, weights that put the larger
    /// id first in some tokens and last in others, and a few lacking layers (the first one too).
    static func referenceToken(_ t: Int, shape: ModelShape) -> (ids: [UInt16], weightBits: [UInt16], absent: [Int]) {
        let e = shape.experts
        let ids = (0..<shape.layers).flatMap { l -> [UInt16] in
            let a = (t * 7 + l * 3) % e
            return [UInt16(a), UInt16((a + 1 + l + t % 5) % e)]
        }
        let weightBits = (0..<shape.layers).flatMap { l in [Float16(0.25 + Float((t + l) % 3) * 0.25).bitPattern, Float16(0.5).bitPattern] }
        return (ids, weightBits, t % 97 == 0 ? [t % shape.layers] : [])
    }

    @Test("the reference read chunk by chunk on several threads holds what preparing each of its tokens in turn holds",
          arguments: [(8, true), (8, false), (600, true)])
    func referenceReadMatchesTokenByToken(experts: Int, weights: Bool) throws {
        let folder = Fixtures.temporaryFolder()
        let shape = ModelShape(name: "t", layers: 3, experts: experts, topK: 2, expertBytes: [100, 100, 200])
        let metadata = TraceMetadata(shape: shape, hasWeights: weights, synthetic: false, source: "test", importer: "test")
        let writer = try TraceWriter(path: folder + "/reference.sqlite", metadata: metadata, options: .init(chunkTokens: 100, compressionLevel: 1))
        // 2,600 tokens in 26 chunks: past two blocks of prepared tokens; sequences of 70 tokens, 20 of them prompt.
        for t in 0..<2600 {
            if t % 70 == 0 { writer.beginSequence(name: "r\(t / 70)") }
            let token = Self.referenceToken(t, shape: shape)
            try writer.appendToken(phase: t % 70 < 20 ? .prefill : .decode, ids: token.ids, weightBits: weights ? token.weightBits : nil, absentLayers: token.absent)
        }
        try writer.finish()
        let reader = try TraceReader(path: folder + "/reference.sqlite")
        var random = SplitMix64(seed: 5, stream: "test")
        let permutation = (0..<shape.layers).map { _ in Array(0..<UInt16(experts)).shuffled(using: &random) }
        // Held up to a token inside chunk 23.
        let read = try BlockBootstrapRouting.readReference(reader, permutation: permutation, limit: 2_345)
        var expected = PreparedTokens(shape: shape, hasWeights: weights)
        var sequences: [Int32] = [], phases: [Phase] = []
        try TokenWalk.forEach(reader) { sequence, phase, ids, weightBits, absent in
            guard expected.count < 2_345 else { return }
            let relabelled = (0..<ids.count).map { permutation[$0 / 2][Int(ids[$0])] }
            try expected.append(ids: relabelled, weightBits: weights ? Array(weightBits) : nil, absentLayers: (0..<3).filter { absent[$0] })
            sequences.append(Int32(sequence))
            phases.append(phase)
        }
        #expect(read.tokens.count == 2_345 && read.sequenceOf == sequences && read.phaseOf == phases)
        var (ids, weightBits) = ([UInt16](repeating: 0, count: 6), [UInt16](repeating: 0, count: weights ? 6 : 0))
        var (expectedIDs, expectedWeights) = (ids, weightBits)
        for t in 0..<2_345 {
            read.tokens.copy(t, ids: &ids, weightBits: &weightBits)
            expected.copy(t, ids: &expectedIDs, weightBits: &expectedWeights)
            #expect(ids == expectedIDs && weightBits == expectedWeights && read.tokens.absentLayers(of: t) == expected.absentLayers(of: t),
                    "token \(t)")
        }
    }
}
