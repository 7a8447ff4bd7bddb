import Foundation
import TestSupport
import Testing
import TraceStore

/// Input at the edges, as a new user meets it on the command line (issue 18): every case
/// exits 2 with a message naming the place and the valid range, and leaves the folder as it was.
@Suite("Edge input on the command line")
struct EdgeInputTests {
    /// Runs `arguments` (with "DIR" replaced by `folder`) and checks the refusal: status 2, `message`
    /// on standard error, and no file in `folder` created, changed or removed.
    func expectRefusal(_ arguments: [String], in folder: String, saying message: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = FolderSnapshot(folder)
        let result = try CLI.run(arguments.map { $0.replacingOccurrences(of: "DIR", with: folder) })
        #expect(result.status == 2, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
        #expect(FolderSnapshot(folder) == before, "the folder changed", sourceLocation: sourceLocation)
    }

    /// Replaces chunk `chunk`'s weight payload in `path` with `edit` applied to it, recompressed
    /// as a valid zstd frame (so only moesim's own checks can tell).
    static func editWeights(of path: String, chunk: Int, _ edit: (inout [UInt8]) -> Void) throws {
        let database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
        let select = try database.prepare("SELECT weights FROM chunks WHERE id = \(chunk)")
        _ = try select.step()
        var payload: [UInt8] = []
        try select.withBlob(0) { try ZstdDecompressor().decompress($0, into: &payload, limit: 1 << 20) }
        edit(&payload)
        let update = try database.prepare("UPDATE chunks SET weights = ? WHERE id = \(chunk)")
        try update.bind(1, ZstdCompressor(level: 3).compress(payload))
        try update.run()
    }

    /// The tiny trace (3 layers, top-2, 4 tokens per chunk) in a fresh folder.
    static func tinyTrace() throws -> (folder: String, path: String) {
        let folder = Fixtures.temporaryFolder()
        let path = folder + "/t.sqlite"
        try Fixtures.tinyTrace(at: path)
        return (folder, path)
    }

    @Test("fp16 weights that hold NaN, Inf or a negative value are refused by name, never trapped on",
          arguments: [(UInt8(0x7E), "nan"), (0x7C, "inf"), (0xBC, "-1.0")])
    func nonFiniteWeights(highByte: UInt8, shown: String) throws {
        let (folder, path) = try Self.tinyTrace()
        // Weight 0 of chunk 0: high-byte plane starts after the 12-byte header, low plane 24 bytes later.
        try Self.editWeights(of: path, chunk: 0) { payload in
            payload[12] = highByte
            payload[36] = 0
        }
        for command in [["trace", "stats", path], ["simulate", "--trace", path, "--policy", "hobbit", "--json"],
                        ["trace", "export", path, "--format", "csv", "-o", "DIR/out.csv"]] {
            try expectRefusal(command, in: folder, saying: "chunk 0: weight payload holds gate weight \(shown)")
        }
    }

    @Test("a payload swapped for another valid frame is caught by the content checksum in simulate and trace info --verify")
    func contentChecksum() throws {
        let (folder, path) = try Self.tinyTrace()
        // 0.75 (0x3A00) becomes 0.7505 (0x3A01): finite, positive, and a valid zstd frame.
        try Self.editWeights(of: path, chunk: 1) { $0[36] ^= 1 }
        let message = "chunk 1: decodes to routing and weights whose content checksum differs"
        try expectRefusal(["trace", "info", "--verify", path], in: folder, saying: message)
        try expectRefusal(["simulate", "--trace", path], in: folder, saying: message)
        let intact = try CLI.run(["trace", "info", "--verify", Self.tinyTrace().path])
        #expect(intact.status == 0 && intact.stdout.contains("every content checksum matches"), "\(intact.stderr)")
    }

    @Test("a trace whose expert_bytes is near Int64.max is refused with the valid range")
    func hugeExpertBytes() throws {
        let (folder, path) = try Self.tinyTrace()
        try SQLiteDatabase(path: path, mode: .readWriteCreate).execute("UPDATE layers SET expert_bytes = 9223372036854775000")
        try expectRefusal(["simulate", "--trace", path, "--cache-mib", "4096"], in: folder,
                          saying: "model shape: gives layer 0 experts of 9223372036854775000 bytes; valid: 1…17179869184")
    }

    @Test("trace counts beyond their ranges are refused before any sum can overflow", arguments: [
        ("UPDATE meta SET value = '9223372036854775807' WHERE key = 'prefill_tokens'",
         "meta key 'prefill_tokens': is '9223372036854775807'; valid: an integer in 0…1099511627776"),
        ("UPDATE sequences SET prefill_tokens = 9223372036854775807, decode_tokens = 9223372036854775807 WHERE id = 0",
         "table 'sequences', row 0: has 9223372036854775807 prompt and 9223372036854775807 generated tokens"),
        ("UPDATE meta SET value = '1048577' WHERE key = 'chunk_tokens'", "meta key 'chunk_tokens': is 1048577"),
        ("UPDATE chunks SET tokens = 1000000 WHERE id = 0", "chunk 0: says it holds 1000000 tokens; chunks of this trace hold 1…4"),
    ])
    func hugeCounts(sql: String, message: String) throws {
        let (folder, path) = try Self.tinyTrace()
        try SQLiteDatabase(path: path, mode: .readWriteCreate).execute(sql)
        try expectRefusal(["trace", "stats", path], in: folder, saying: message)
    }

    @Test("an output path that is one of the inputs is refused and the input survives", arguments: [
        ["trace", "import", "--format", "csv", "DIR/in.csv", "-o", "DIR/in.csv"],
        ["trace", "import", "--format", "jsonl", "DIR/in.jsonl", "-o", "DIR/./in.jsonl"],
        ["trace", "import", "--format", "csv", "DIR/in.csv", "-o", "DIR/link.csv"],
        ["trace", "export", "DIR/t.sqlite", "--format", "csv", "-o", "DIR/t.sqlite"],
        ["trace", "synth", "--like", "DIR/t.sqlite", "--tokens", "10", "-o", "DIR/t.sqlite"],
        ["simulate", "--trace", "DIR/t.sqlite", "--timeline", "DIR/t.sqlite"],
    ])
    func outputIsAnInput(arguments: [String]) throws {
        let (folder, path) = try Self.tinyTrace()
        _ = try CLI.run(["trace", "export", path, "--format", "csv", "-o", folder + "/in.csv"])
        _ = try CLI.run(["trace", "export", path, "--format", "jsonl", "-o", folder + "/in.jsonl"])
        try FileManager.default.linkItem(atPath: folder + "/in.csv", toPath: folder + "/link.csv")
        try expectRefusal(arguments, in: folder, saying: "is also an input")
    }

    @Test("trace info on a folder says it is a folder")
    func folderAsTrace() throws {
        let folder = Fixtures.temporaryFolder()
        try expectRefusal(["trace", "info", folder], in: folder, saying: "is a folder, not a trace or results file")
    }

    @Test("--export with an unknown name names --export", arguments: ["policies", "hardware", "engines"])
    func unknownExport(command: String) throws {
        try expectRefusal([command, "--export", "nope"], in: Fixtures.temporaryFolder(), saying: "error: --export: unknown")
    }

    @Test("generic-format rows the importer cannot take are refused with the file, the line and the rule", arguments: [
        ("csv", "sequence,token,phase,layer,rank,expert,weight\na,0,decode,0,0,1,-0.5\n", "in.csv: line 2: has weight -0.5; valid: 0…65504"),
        ("csv", "sequence,token,phase,layer,rank,expert\na,0,decode,0,0,1,9\n", "in.csv: line 2: has 7 fields where the header has 6"),
        ("jsonl", "{\"sequence\":\"a\",\"token\":0,\"phase\":\"decode\",\"layer\":0,\"rank\":0,\"expert\":\"3\"}\n",
         "in.jsonl: line 1: gives expert as the string \"3\""),
    ])
    func badGenericRows(format: String, text: String, message: String) throws {
        let folder = Fixtures.temporaryFolder()
        Fixtures.write(text, to: "in.\(format)", in: folder)
        try expectRefusal(["trace", "import", "--format", format, "DIR/in.\(format)", "-o", "DIR/t.sqlite"], in: folder, saying: message)
    }

    @Test("trace stats on a model too wide for dense co-activation counts leaves the affinity out instead of allocating gigabytes")
    func wideModelStatistics() throws {
        // 3 layers × 5,000 experts: 2 × 5,000² = 50 M co-activation counts, above the 2^24 kept.
        // (The fuzzer's input claimed 61,439 experts: 7.5 G counts, 60 GB asked for.)
        let path = Fixtures.temporaryFolder() + "/wide.sqlite"
        let shape = ModelShape(name: "wide", layers: 3, experts: 5_000, topK: 2, expertBytes: [1_000, 1_000, 1_000])
        let writer = try TraceWriter(path: path, metadata: TraceMetadata(shape: shape, hasWeights: false, synthetic: true, source: "test", importer: "test"))
        writer.beginSequence(name: "s")
        for t in 0..<6 { try writer.appendToken(phase: .decode, ids: (0..<6).map { UInt16(t * 6 + $0) }) }
        _ = try writer.finish()
        let result = try CLI.run(["trace", "stats", path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let layers = try #require(object["layers"] as? [[String: Any]])
        #expect(layers.count == 3 && layers.allSatisfy { $0["affinity_recall"] == nil || $0["affinity_recall"] is NSNull })
    }
}
