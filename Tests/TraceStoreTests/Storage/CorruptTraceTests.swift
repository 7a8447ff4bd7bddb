import Foundation
import Testing
import TraceStore

/// Damaged traces: each must give a TraceStoreError naming the file and the place, never a crash.
@Suite("Damaged traces")
struct CorruptTraceTests {
    /// A tiny trace, then `sql` run on it with `blob` bound to parameter 1 if given.
    func damaged(_ sql: String, blob: [UInt8]? = nil) throws -> String {
        let path = Fixtures.temporaryFolder() + "/t.sqlite"
        try Fixtures.tinyTrace(at: path)
        let database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
        let statement = try database.prepare(sql)
        if let blob { try statement.bind(1, blob) }
        try statement.run()
        return path
    }

    /// Reads every chunk of `path`, returning the error thrown.
    func readAll(_ path: String) -> TraceStoreError? {
        do {
            let reader = try TraceReader(path: path)
            let cursor = try reader.chunks()
            var chunk = cursor.makeChunk()
            while try cursor.next(into: &chunk) {}
            return nil
        } catch let error as TraceStoreError {
            return error
        } catch {
            Issue.record("unexpected error type \(type(of: error)): \(error)")
            return nil
        }
    }

    @Test("a blob that is not zstd names the chunk")
    func notZstd() throws {
        let error = readAll(try damaged("UPDATE chunks SET routing = ? WHERE id = 2", blob: [1, 2, 3, 4, 5]))
        #expect(error?.place == "chunk 2")
        #expect(error?.problem.contains("routing blob is not a zstd frame") == true)
    }

    @Test("a truncated zstd blob fails to decompress and names the chunk")
    func truncatedBlob() throws {
        let frame = ZstdCompressor(level: 3).compress([UInt8](repeating: 7, count: 1000) + (0..<200).map { UInt8($0) })
        let error = readAll(try damaged("UPDATE chunks SET weights = ? WHERE id = 1", blob: Array(frame.dropLast(6))))
        #expect(error?.place == "chunk 1")
        #expect(error?.problem.contains("weight blob") == true, "\(error?.problem ?? "")")
    }

    /// A pre-pass reads the routing alone (`readsWeights` off): it reads the same ids as a full
    /// read, and a damaged weight blob, which it never inflates, does not stop it; the full read
    /// that follows it still refuses the damage.
    @Test("a cursor that skips weights reads the same routing and leaves the weights' damage to the full read")
    func cursorWithoutWeights() throws {
        let frame = ZstdCompressor(level: 3).compress([UInt8](repeating: 7, count: 1000) + (0..<200).map { UInt8($0) })
        let path = try damaged("UPDATE chunks SET weights = ? WHERE id = 1", blob: Array(frame.dropLast(6)))
        let intact = Fixtures.temporaryFolder() + "/intact.sqlite"
        try Fixtures.tinyTrace(at: intact)
        func ids(_ path: String, weights: Bool) throws -> [[UInt16]] {
            let cursor = try TraceReader(path: path).chunks()
            cursor.readsWeights = weights
            var chunk = cursor.makeChunk()
            var all: [[UInt16]] = []
            while try cursor.next(into: &chunk) {
                #expect(chunk.hasWeights == weights)
                all.append(chunk.ids)
            }
            return all
        }
        let expected = try ids(intact, weights: true)
        #expect(expected.count > 2)
        #expect(try ids(path, weights: false) == expected)
        #expect(readAll(path)?.place == "chunk 1")
    }

    @Test("a valid zstd blob of the wrong length is refused")
    func wrongLength() throws {
        let frame = ZstdCompressor(level: 3).compress(Array("MSR1".utf8) + [UInt8](repeating: 0, count: 40))
        let error = readAll(try damaged("UPDATE chunks SET routing = ? WHERE id = 0", blob: frame))
        #expect(error?.place == "chunk 0")
        #expect(error?.file.hasSuffix("t.sqlite") == true)
    }

    @Test("an unknown format version is refused with what to do")
    func unknownVersion() throws {
        let path = try damaged("UPDATE meta SET value = '9' WHERE key = 'format_version'")
        let error = #expect(throws: TraceStoreError.self) { try TraceReader(path: path) }
        #expect(error?.problem.contains("format version 9") == true)
        #expect(error?.fix.contains("Upgrade moesim") == true)
    }

    @Test("a missing chunk is reported as missing")
    func missingChunk() throws {
        let error = readAll(try damaged("DELETE FROM chunks WHERE id = 3"))
        #expect(error?.place == "chunk 3")
        #expect(error?.problem.contains("missing") == true)
    }

    @Test("a missing chunk stops synthesis from the trace, naming the chunk, before anything is written")
    func missingChunkStopsSynthesis() throws {
        let path = try damaged("DELETE FROM chunks WHERE id = 3")
        let output = Fixtures.temporaryFolder() + "/s.sqlite"
        let error = #expect(throws: TraceStoreError.self) { try TraceSynthesis.run(.init(model: nil, tokens: 10, seed: 1, like: path), output: output) }
        #expect(error?.file == path && error?.place == "chunk 3")
        #expect(error?.problem.contains("missing") == true)
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("a file cut in half is refused, not crashed on")
    func truncatedFile() throws {
        let path = Fixtures.temporaryFolder() + "/t.sqlite"
        try Fixtures.tinyTrace(at: path)
        let data = FileManager.default.contents(atPath: path)!
        _ = FileManager.default.createFile(atPath: path, contents: data.prefix(data.count / 2))
        #expect(readAll(path) != nil)
    }

    @Test("an SQLite file that is not a trace says so")
    func notATrace() throws {
        let path = Fixtures.temporaryFolder() + "/other.sqlite"
        let database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
        try database.execute("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        let error = #expect(throws: TraceStoreError.self) { try TraceReader(path: path) }
        #expect(error?.problem.contains("not a moesim trace") == true)
    }

    @Test("random bytes and randomly corrupted traces never crash the reader")
    func fuzzedFiles() throws {
        let folder = Fixtures.temporaryFolder()
        let good = folder + "/good.sqlite"
        try Fixtures.tinyTrace(at: good)
        let original = [UInt8](FileManager.default.contents(atPath: good)!)
        var random = SplitMix64(seed: 42)
        var refused = 0, randomRefused = 0
        for round in 0..<300 {
            var bytes: [UInt8]
            if round % 10 == 0 {
                bytes = (0..<random.int(below: 70_000)).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                bytes = original
                for _ in 0..<(1 + random.int(below: 40)) {
                    bytes[random.int(below: bytes.count)] = UInt8.random(in: 0...255, using: &random)
                }
                if round % 7 == 0 { bytes.removeLast(random.int(below: bytes.count)) }
            }
            let path = folder + "/fuzz\(round).sqlite"
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            if readAll(path) != nil {
                refused += 1
                if round % 10 == 0 { randomRefused += 1 }
            }
            try? FileManager.default.removeItem(atPath: path)
        }
        // None may crash. Random files are never taken for traces; flipped bytes are caught
        // where they land in data that is read (blobs carry checksums), not in free space.
        #expect(randomRefused == 30)
        #expect(refused > 100)
    }

    @Test("corrupted blobs inside a valid SQLite file never crash the decoder")
    func fuzzedBlobs() throws {
        let folder = Fixtures.temporaryFolder()
        let path = folder + "/t.sqlite"
        try Fixtures.tinyTrace(at: path, chunkTokens: 64)
        let database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
        let select = try database.prepare("SELECT routing FROM chunks WHERE id = 0")
        _ = try select.step()
        let routing = select.blob(0)
        select.reset()
        let payload = try { () throws -> [UInt8] in
            var out: [UInt8] = []
            try routing.withUnsafeBytes { try ZstdDecompressor().decompress($0, into: &out, limit: 1 << 20) }
            return out
        }()
        let update = try database.prepare("UPDATE chunks SET routing = ? WHERE id = 0")
        let compressor = ZstdCompressor(level: 1)
        var random = SplitMix64(seed: 7)
        for _ in 0..<400 {
            var bytes = payload
            for _ in 0..<(1 + random.int(below: 4)) { bytes[random.int(below: bytes.count)] = UInt8.random(in: 0...255, using: &random) }
            try update.bind(1, compressor.compress(bytes))
            try update.run()
            _ = readAll(path)
        }
    }
}
