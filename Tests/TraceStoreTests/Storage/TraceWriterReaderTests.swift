import Foundation
import Testing
import TraceStore

@Suite("Trace writer and reader")
struct TraceWriterReaderTests {
    @Test("a written trace reads back token for token, in rank order, across chunk boundaries")
    func roundTrip() throws {
        let folder = Fixtures.temporaryFolder()
        let path = folder + "/tiny.sqlite"
        let written = try Fixtures.tinyTrace(at: path, sequences: 3, decode: 5, chunkTokens: 4)
        #expect(written.tokens == 21)
        #expect(written.chunks == 6)
        let tokens = try Fixtures.tokens(of: path)
        #expect(tokens.count == 21)
        for (i, token) in tokens.enumerated() {
            let s = i / 7, t = i % 7
            #expect(token.sequence == s)
            #expect(token.phase == (t < 2 ? .prefill : .decode))
            #expect(token.ids == Fixtures.tinyIDs(sequence: s, token: t))
            #expect(token.weights == Fixtures.tinyWeights(token: t))
        }
    }

    @Test("metadata, sequences and per-layer expert bytes survive the round trip")
    func metadataRoundTrip() throws {
        let path = Fixtures.temporaryFolder() + "/tiny.sqlite"
        try Fixtures.tinyTrace(at: path)
        let reader = try TraceReader(path: path)
        #expect(reader.metadata.shape == Fixtures.tinyShape)
        #expect(reader.metadata.prefillTokens == 6)
        #expect(reader.metadata.decodeTokens == 15)
        #expect(reader.metadata.synthetic == false)
        #expect(reader.sequences.map(\.name) == ["s0", "s1", "s2"])
        #expect(reader.sequences.map(\.firstChunk) == [0, 1, 3])
    }

    @Test("weights given as fp16 bit patterns write the same file as the same weights given as floats")
    func weightBitsMatchFloats() throws {
        let folder = Fixtures.temporaryFolder()
        try Fixtures.tinyTrace(at: folder + "/floats.sqlite")
        let metadata = TraceMetadata(shape: Fixtures.tinyShape, hasWeights: true, synthetic: false, source: "test fixture", importer: "test")
        let writer = try TraceWriter(path: folder + "/bits.sqlite", metadata: metadata, options: .init(chunkTokens: 4, compressionLevel: 3))
        for s in 0..<3 {
            writer.beginSequence(name: "s\(s)")
            for t in 0..<7 {
                try writer.appendToken(phase: t < 2 ? .prefill : .decode, ids: Fixtures.tinyIDs(sequence: s, token: t),
                                       weightBits: Fixtures.tinyWeights(token: t).map { Float16($0).bitPattern })
            }
        }
        try writer.finish()
        #expect(FileManager.default.contents(atPath: folder + "/bits.sqlite") == FileManager.default.contents(atPath: folder + "/floats.sqlite"))
    }

    /// Valid as the float weights are: finite and not below zero; −0 compares equal to 0.
    @Test("a weight's bit pattern is refused where its value would be", arguments: [
        (Float16(-0.5).bitPattern, false), (Float16.infinity.bitPattern, false), (Float16.nan.bitPattern, false),
        ((-Float16.zero).bitPattern, true), (Float16(65504).bitPattern, true), (Float16(0.25).bitPattern, true),
    ])
    func weightBitsValidity(bits: UInt16, valid: Bool) throws {
        let metadata = TraceMetadata(shape: Fixtures.tinyShape, hasWeights: true, synthetic: false, source: "t", importer: "t")
        let writer = try TraceWriter(path: Fixtures.temporaryFolder() + "/w.sqlite", metadata: metadata)
        defer { writer.discard() }
        writer.beginSequence(name: "a")
        let float = Float(Float16(bitPattern: bits))
        let floatValid = (try? writer.appendToken(phase: .decode, ids: [7, 1, 0, 5, 3, 2], weights: [float, 0.1, 0.5, 0.5, 0.5, 0.5])) != nil
        let bitsValid = (try? writer.appendToken(phase: .decode, ids: [7, 1, 0, 5, 3, 2],
                                                weightBits: [bits] + Array(repeating: Float16(0.5).bitPattern, count: 5))) != nil
        #expect(bitsValid == valid)
        #expect(floatValid == valid)
    }

    @Test("without weights the given order is kept as the rank order")
    func unweightedOrderIsKept() throws {
        let path = Fixtures.temporaryFolder() + "/tiny.sqlite"
        let metadata = TraceMetadata(shape: Fixtures.tinyShape, hasWeights: false, synthetic: false, source: "t", importer: "t")
        let writer = try TraceWriter(path: path, metadata: metadata)
        writer.beginSequence(name: "a")
        try writer.appendToken(phase: .decode, ids: [7, 1, 0, 5, 3, 2])
        try writer.finish()
        #expect(try Fixtures.tokens(of: path)[0].ids == [7, 1, 0, 5, 3, 2])
    }

    @Test("the same inputs give the same file, byte for byte")
    func deterministicBytes() throws {
        let folder = Fixtures.temporaryFolder()
        try Fixtures.tinyTrace(at: folder + "/a.sqlite")
        try Fixtures.tinyTrace(at: folder + "/b.sqlite")
        #expect(FileManager.default.contents(atPath: folder + "/a.sqlite") == FileManager.default.contents(atPath: folder + "/b.sqlite"))
    }

    @Test("an abandoned writer leaves neither the trace nor its temporary file")
    func discardLeavesNothing() throws {
        let folder = Fixtures.temporaryFolder()
        let path = folder + "/never.sqlite"
        let metadata = TraceMetadata(shape: Fixtures.tinyShape, hasWeights: false, synthetic: false, source: "t", importer: "t")
        do {
            let writer = try TraceWriter(path: path, metadata: metadata)
            writer.beginSequence(name: "a")
            try writer.appendToken(phase: .decode, ids: [7, 1, 0, 5, 3, 2])
            #expect(FileManager.default.fileExists(atPath: path + ".partial"))
            writer.discard()
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test("a token with a repeated or out-of-range expert is refused with the reason", arguments: [
        ([UInt16]([1, 1, 0, 5, 3, 2]), "twice"),
        ([UInt16]([1, 8, 0, 5, 3, 2]), "outside 0..<8"),
        ([UInt16]([1, 2, 0, 5, 3]), "where 3 layers × top-2"),
    ])
    func invalidTokens(ids: [UInt16], reason: String) throws {
        let path = Fixtures.temporaryFolder() + "/bad.sqlite"
        let metadata = TraceMetadata(shape: Fixtures.tinyShape, hasWeights: false, synthetic: false, source: "t", importer: "t")
        let writer = try TraceWriter(path: path, metadata: metadata)
        writer.beginSequence(name: "a")
        let error = #expect(throws: TraceWriter.InvalidToken.self) { try writer.appendToken(phase: .decode, ids: ids) }
        #expect(error?.problem.contains(reason) == true)
    }

    @Test("recorded predictions read back per lookahead, sorted, for target layers at or past the lookahead")
    func predictionsRoundTrip() throws {
        let path = Fixtures.temporaryFolder() + "/pred.sqlite"
        var metadata = TraceMetadata(shape: Fixtures.tinyShape, hasWeights: false, synthetic: false, source: "t", importer: "t")
        metadata.predictionLookaheads = [0, 1]
        metadata.predictionWidth = 3
        let writer = try TraceWriter(path: path, metadata: metadata)
        writer.beginSequence(name: "a")
        for t in 0..<5 {
            let ids = Fixtures.tinyIDs(sequence: 0, token: t)
            var wide: [UInt16] = []
            for l in 0..<3 {
                for offset in [0, 3, 5] { wide.append(UInt16((t + l + offset) % 8)) }
            }
            try writer.appendToken(phase: .decode, ids: ids, predictions: [wide, wide])
        }
        try writer.finish()
        let reader = try TraceReader(path: path)
        #expect(reader.metadata.predictionLookaheads == [0, 1])
        let cursor = try reader.chunks(predictions: [1])
        var chunk = cursor.makeChunk()
        #expect(try cursor.next(into: &chunk))
        let predictions = cursor.predictions[0]
        #expect(predictions.lookahead == 1)
        #expect(Array(predictions.predicted(token: 2, targetLayer: 2)) == [UInt16((2 + 2) % 8), UInt16((2 + 2 + 3) % 8), UInt16((2 + 2 + 5) % 8)].sorted())
        #expect(predictions.predicted(token: 2, targetLayer: 0).isEmpty)
        #expect(throws: TraceStoreError.self) { try reader.chunks(predictions: [2]) }
    }
}
