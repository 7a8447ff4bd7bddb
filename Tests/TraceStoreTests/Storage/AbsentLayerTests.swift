import Foundation
import TraceStore
import Testing

/// Format version 2: tokens kept with some layers absent (traces/FORMAT.md, flags bit 2).
@Suite("Absent token-layers")
struct AbsentLayerTests {
    /// The tiny trace's shape (3 layers × 8 experts, top-2) with token 1 of each sequence
    /// lacking layer 2 and token 3 lacking layers 0 and 1; chunks of 4 tokens.
    static func write(at path: String, weights: Bool) throws -> TraceMetadata {
        let metadata = TraceMetadata(shape: Fixtures.tinyShape, hasWeights: weights, synthetic: false, source: "test", importer: "test")
        let writer = try TraceWriter(path: path, metadata: metadata, options: .init(chunkTokens: 4, compressionLevel: 3))
        for s in 0..<2 {
            writer.beginSequence(name: "s\(s)")
            for t in 0..<5 {
                let absent = t == 1 ? [2] : t == 3 ? [0, 1] : []
                try writer.appendToken(phase: t < 2 ? .prefill : .decode, ids: Fixtures.tinyIDs(sequence: s, token: t),
                                       weights: weights ? Fixtures.tinyWeights(token: t) : nil, absentLayers: absent)
            }
        }
        return try writer.finish()
    }

    @Test("the reader gives back which token-layers are absent, and the trace says how many decisions",
          arguments: [true, false])
    func roundTrip(weights: Bool) throws {
        let path = Fixtures.temporaryFolder() + "/absent.sqlite"
        let written = try Self.write(at: path, weights: weights)
        #expect(written.formatVersion == 3)
        // Per sequence: 1 layer of token 1 and 2 of token 3, × top-2.
        #expect(written.absentDecisions == 2 * 3 * 2)
        let reader = try TraceReader(path: path)
        #expect(reader.metadata.absentDecisions == 12)
        let cursor = try reader.chunks()
        var chunk = cursor.makeChunk()
        var absent: [(Int, Int)] = []
        var tokenIndex = 0
        while try cursor.next(into: &chunk) {
            for token in 0..<chunk.tokenCount {
                for layer in 0..<3 where chunk.isAbsent(token: token, layer: layer) { absent.append((tokenIndex + token, layer)) }
                // Present layers keep their ids.
                let (s, t) = ((tokenIndex + token) / 5, (tokenIndex + token) % 5)
                for layer in 0..<3 where !chunk.isAbsent(token: token, layer: layer) {
                    let stored = Set(chunk.expertIDs(token: token, layer: layer))
                    #expect(stored == Set(Fixtures.tinyIDs(sequence: s, token: t)[layer * 2..<layer * 2 + 2]))
                }
            }
            tokenIndex += chunk.tokenCount
        }
        #expect(absent.map { $0.0 } == [1, 3, 3, 6, 8, 8])
        #expect(absent.map { $0.1 } == [2, 0, 1, 2, 0, 1])
    }

    @Test("a version-1 file, without checksum columns, still reads token for token")
    func versionOneStillReads() throws {
        let folder = Fixtures.temporaryFolder()
        let path = folder + "/plain.sqlite"
        let written = try Fixtures.tinyTrace(at: path)
        #expect(written.formatVersion == 3 && written.absentDecisions == 0)
        let old = folder + "/v1.sqlite"
        try FileManager.default.copyItem(atPath: path, toPath: old)
        try SQLiteDatabase(path: old, mode: .readWriteCreate).execute("""
            ALTER TABLE chunks DROP COLUMN checksum; ALTER TABLE predictions DROP COLUMN checksum;
            UPDATE meta SET value = '1' WHERE key = 'format_version'
            """)
        let reader = try TraceReader(path: old)
        #expect(reader.metadata.formatVersion == 1 && !reader.metadata.hasContentChecksums)
        #expect(try Fixtures.tokens(of: old).map(\.ids) == Fixtures.tokens(of: path).map(\.ids))
        #expect(try TraceVerification.run(reader).contains("format version 1 stores no content checksums"))
    }

    @Test("a token that lacks every layer is refused")
    func tokenWithoutLayers() throws {
        let metadata = TraceMetadata(shape: Fixtures.tinyShape, hasWeights: false, synthetic: false, source: "test", importer: "test")
        let writer = try TraceWriter(path: Fixtures.temporaryFolder() + "/x.sqlite", metadata: metadata)
        writer.beginSequence(name: "s")
        #expect(throws: TraceWriter.InvalidToken.self) {
            try writer.appendToken(phase: .decode, ids: Fixtures.tinyIDs(sequence: 0, token: 0), absentLayers: [0, 1, 2])
        }
        writer.discard()
    }

    @Test("a version-2 file whose format_version says 1 is refused, naming the key")
    func versionMustMatch() throws {
        let path = Fixtures.temporaryFolder() + "/absent.sqlite"
        _ = try Self.write(at: path, weights: false)
        try SQLiteDatabase(path: path, mode: .readWriteCreate).execute("UPDATE meta SET value = '1' WHERE key = 'format_version'")
        let error = #expect(throws: TraceStoreError.self) { _ = try TraceReader(path: path) }
        #expect(error?.place == "meta key 'format_version'")
    }

    @Test("export skips absent token-layers, and the lenient re-import restores them")
    func exportAndStatisticsSkipAbsence() throws {
        let folder = Fixtures.temporaryFolder()
        _ = try Self.write(at: folder + "/absent.sqlite", weights: true)
        let reader = try TraceReader(path: folder + "/absent.sqlite")
        let rows = try TraceExport.run(trace: reader, syntax: .csv, output: folder + "/absent.csv")
        // 10 tokens × 3 layers × 2, less the 12 absent decisions.
        #expect(rows == 60 - 12)
        let reimported = try TraceImport.run(format: .csv, inputs: [folder + "/absent.csv"], output: folder + "/again.sqlite",
                                             options: ImportOptions(lenient: true, experts: 8))
        #expect(reimported.metadata.absentDecisions == 12)
        let again = try TraceExport.run(trace: try TraceReader(path: folder + "/again.sqlite"), syntax: .csv, output: folder + "/again.csv")
        #expect(again == rows)
        #expect(try String(contentsOfFile: folder + "/again.csv", encoding: .utf8) == (try String(contentsOfFile: folder + "/absent.csv", encoding: .utf8)))
    }
}
