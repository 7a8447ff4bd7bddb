import Foundation
import Testing
@testable import TraceStore

@Suite("Parametric synthesis")
struct ParametricRoutingTests {
    /// FNV-1a over every chunk's sequence runs, phases, expert ids and fp16 weight bits, in order:
    /// the trace's content, without the file's page layout.
    static func contentDigest(of path: String) throws -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ value: UInt64) {
            hash ^= value
            hash &*= 0x0000_0100_0000_01b3
        }
        let cursor = try TraceReader(path: path).chunks()
        var chunk = cursor.makeChunk()
        while try cursor.next(into: &chunk) {
            for run in chunk.runs { mix(UInt64(run.sequence)); mix(UInt64(run.firstToken)); mix(UInt64(run.tokens)) }
            for phase in chunk.phases { mix(UInt64(phase)) }
            for id in chunk.ids { mix(UInt64(id)) }
            for bits in chunk.weightBits { mix(UInt64(bits)) }
        }
        return hash
    }

    // The digests were taken from the generator as first written (one token at a time, commit
    // a3d4dc9): a seed names the same trace in every version, so a reproduction that quotes one
    // stays a reproduction.
    @Test("the parametric generator writes the same routing and weights as its first version, bit for bit",
          arguments: [
            ("qwen3-30b-a3b", 900, UInt64(1), nil, nil, UInt64(0xa36f_e8ea_a233_2a50)),
            ("mixtral-8x7b", 1000, UInt64(2), 10, 40, UInt64(0xf8c5_9f29_427c_38ea)),
            ("deepseek-v2-lite", 700, UInt64(3), 5, 0, UInt64(0x47cc_09c6_3709_6f12)),
            ("switch-base-128-encoder", 800, UInt64(4), 512, 0, UInt64(0x09f0_611c_b252_3a9a)),
          ] as [(String, Int, UInt64, Int?, Int?, UInt64)])
    func sameAsFirstVersion(model: String, tokens: Int, seed: UInt64, prefill: Int?, decode: Int?, digest: UInt64) throws {
        let path = Fixtures.temporaryFolder() + "/p.sqlite"
        try TraceSynthesis.run(.init(model: ModelPreset.named(model), tokens: tokens, seed: seed, prefill: prefill, decode: decode), output: path)
        let content = try Self.contentDigest(of: path)
        #expect(content == digest, "content digest 0x\(String(content, radix: 16))")
    }

    @Test("writing in batches drawn on two threads gives the same file as appending each generated token")
    func writeMatchesGenerate() throws {
        let folder = Fixtures.temporaryFolder()
        // Sequences longer than a batch, with the prompt's end inside the second batch.
        let prefill = ParametricRouting.batchTokens + 37
        let routing = ParametricRouting(shape: Fixtures.tinyShape, seed: 4, shapes: [SequenceShape(prefill: prefill, decode: 50), SequenceShape(prefill: 3, decode: 2)])
        let metadata = TraceMetadata(shape: Fixtures.tinyShape, hasWeights: true, synthetic: true, source: "test", importer: "synth")
        let options = TraceWriter.Options(chunkTokens: 1000, compressionLevel: 1)
        let tokens = 3 * prefill
        let batched = try TraceWriter(path: folder + "/batched.sqlite", metadata: metadata, options: options)
        try routing.write(tokens: tokens, to: batched)
        let written = try batched.finish()
        let appended = try TraceWriter(path: folder + "/appended.sqlite", metadata: metadata, options: options)
        var open = -1
        try routing.generate(tokens: tokens) { sequence, phase, ids, weightBits, absentLayers in
            if sequence != open {
                appended.beginSequence(name: ParametricRouting.sequenceName(sequence))
                open = sequence
            }
            try appended.appendToken(phase: phase, ids: ids, weightBits: weightBits, absentLayers: absentLayers)
        }
        try appended.finish()
        #expect(written.tokens == tokens && written.sequences > 2 && written.prefillTokens > prefill && written.decodeTokens > 0)
        #expect(FileManager.default.contents(atPath: folder + "/batched.sqlite") == FileManager.default.contents(atPath: folder + "/appended.sqlite"))
    }
}
