import Foundation
import Testing
import TraceStore

@Suite("Generic long format")
struct LongFormatImportTests {
    let csv = """
        sequence,token,phase,layer,rank,expert,weight
        a,0,prefill,0,0,3,0.6
        a,0,prefill,0,1,1,0.4
        a,0,prefill,1,0,2,0.7
        a,0,prefill,1,1,0,0.3
        a,1,decode,1,1,5,0.25
        a,1,decode,1,0,4,0.75
        a,1,decode,0,0,3,0.5
        a,1,decode,0,1,6,0.5
        b,0,decode,0,0,7,0.9
        b,0,decode,0,1,0,0.1
        b,0,decode,1,0,1,0.8
        b,0,decode,1,1,2,0.2

        """

    @Test("CSV rows in any order within a sequence import with the shape taken from the data")
    func csvImport() throws {
        let folder = Fixtures.temporaryFolder()
        let input = Fixtures.write(csv, to: "in.csv", in: folder)
        let result = try TraceImport.run(format: .csv, inputs: [input], output: folder + "/t.sqlite", options: ImportOptions(experts: 8))
        #expect(result.metadata.shape.layers == 2 && result.metadata.shape.topK == 2 && result.metadata.shape.experts == 8)
        let tokens = try Fixtures.tokens(of: folder + "/t.sqlite")
        #expect(tokens.map(\.sequence) == [0, 0, 1])
        #expect(tokens.map(\.phase) == [.prefill, .decode, .decode])
        #expect(tokens[0].ids == [3, 1, 2, 0])
        #expect(tokens[1].ids == [3, 6, 4, 5])  // equal weights 0.5: ties go to the lower id
        #expect(tokens[2].weights == [0.9, 0.1, 0.8, 0.2].map { Float(Float16($0)) })
    }

    @Test("JSONL with the same rows gives the same routing as CSV")
    func jsonlMatchesCSV() throws {
        let folder = Fixtures.temporaryFolder()
        let lines = csv.split(separator: "\n").dropFirst().map { line -> String in
            let f = line.split(separator: ",")
            return "{\"sequence\":\"\(f[0])\",\"token\":\(f[1]),\"phase\":\"\(f[2])\",\"layer\":\(f[3]),\"rank\":\(f[4]),\"expert\":\(f[5]),\"weight\":\(f[6])}"
        }
        let jsonl = Fixtures.write(lines.joined(separator: "\n") + "\n", to: "in.jsonl", in: folder)
        let csvFile = Fixtures.write(csv, to: "in.csv", in: folder)
        try TraceImport.run(format: .jsonl, inputs: [jsonl], output: folder + "/j.sqlite", options: ImportOptions(experts: 8))
        try TraceImport.run(format: .csv, inputs: [csvFile], output: folder + "/c.sqlite", options: ImportOptions(experts: 8))
        let a = try Fixtures.tokens(of: folder + "/j.sqlite"), b = try Fixtures.tokens(of: folder + "/c.sqlite")
        #expect(a.map(\.ids) == b.map(\.ids))
        #expect(a.map(\.weights) == b.map(\.weights))
    }

    @Test("bad generic input names the file and line", arguments: [
        ("sequence,token,phase,layer,rank,expert\na,0,later,0,0,1\n", "line 2", "phase 'later'"),
        ("sequence,token,layer,rank,expert\na,0,0,0,1\n", "line 1", "without the column(s) phase"),
        ("sequence,token,phase,layer,rank,expert\na,0,decode,0,0,1\nb,0,decode,0,0,1\na,1,decode,0,0,2\n", "line 4", "continues sequence 'a'"),
        ("sequence,token,phase,layer,rank,expert\na,0,decode,0,0,1\na,0,decode,0,0,2\n", "line 3", "repeats layer 0, rank 0"),
        ("sequence,token,phase,layer,rank,expert\na,0,decode,0,0,-1\n", "line 2", "not a non-negative integer"),
    ])
    func badInput(text: String, place: String, problem: String) throws {
        expectRefusal(of: text, with: ImportOptions(), at: place, saying: problem)
    }

    /// Imports `text` as CSV under `options` and expects a refusal naming the file and `place`,
    /// whose problem contains `problem`, with nothing written.
    private func expectRefusal(of text: String, with options: ImportOptions, at place: String, saying problem: String,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        let folder = Fixtures.temporaryFolder()
        let input = Fixtures.write(text, to: "in.csv", in: folder)
        let error = #expect(throws: TraceStoreError.self, sourceLocation: sourceLocation) {
            try TraceImport.run(format: .csv, inputs: [input], output: folder + "/t.sqlite", options: options)
        }
        #expect(error?.file == input && error?.place == place, sourceLocation: sourceLocation)
        #expect(error?.problem.contains(problem) == true, "\(error?.problem ?? "")", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: folder + "/t.sqlite"), sourceLocation: sourceLocation)
    }

    @Test("a layer beyond the supported count is refused naming the input, at once", arguments: ["5000", "1000000000000"])
    func absurdLayerRefusedNamingTheInput(layer: String) throws {
        let folder = Fixtures.temporaryFolder()
        let input = Fixtures.write("sequence,token,phase,layer,rank,expert\na,0,decode,\(layer),0,1\n", to: "in.csv", in: folder)
        let error = #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .csv, inputs: [input], output: folder + "/t.sqlite", options: ImportOptions())
        }
        #expect(error?.file == input && error?.place == "model shape")
        #expect(error?.problem == "has \(Int(layer)! + 1) MoE layers (1…4096 supported)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/t.sqlite"))
    }

    @Test("a token missing a layer fails, or is kept with that layer absent under --lenient; one with no layer is skipped")
    func missingLayers() throws {
        let folder = Fixtures.temporaryFolder()
        let input = Fixtures.write("sequence,token,phase,layer,rank,expert\na,0,decode,0,0,1\na,0,decode,1,0,2\na,1,decode,0,0,3\na,2,decode,0,0,1\na,2,decode,1,0,1\n", to: "in.csv", in: folder)
        let error = #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .csv, inputs: [input], output: folder + "/t.sqlite", options: ImportOptions())
        }
        #expect(error?.place == "sequence a, token 1")
        let result = try TraceImport.run(format: .csv, inputs: [input], output: folder + "/t.sqlite", options: ImportOptions(lenient: true))
        #expect(result.skipped.isEmpty)
        #expect(result.incompleteTokens == 1)
        #expect(result.metadata.tokens == 3)
        #expect(result.metadata.absentDecisions == 1)
        // Exported, token 1 has only its layer-0 row.
        let exported = folder + "/t.csv"
        _ = try TraceExport.run(trace: try TraceReader(path: folder + "/t.sqlite"), syntax: .csv, output: exported)
        let rows = try String(contentsOfFile: exported, encoding: .utf8).split(separator: "\n").dropFirst().filter { $0.hasPrefix("a,1,") }
        #expect(rows == ["a,1,decode,0,0,3,"])
    }

    @Test("non-UTF-8 text and empty files are refused with the file named")
    func nonUTF8AndEmpty() throws {
        let folder = Fixtures.temporaryFolder()
        let bad = folder + "/bad.csv"
        _ = FileManager.default.createFile(atPath: bad, contents: Data([0x73, 0x65, 0x71, 0xFF, 0xFE, 0x0A]))
        let error = #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .csv, inputs: [bad], output: folder + "/t.sqlite", options: ImportOptions())
        }
        #expect(error?.problem.contains("not UTF-8") == true)
        let empty = Fixtures.write("", to: "empty.csv", in: folder)
        let emptyError = #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .csv, inputs: [empty], output: folder + "/t.sqlite", options: ImportOptions())
        }
        #expect(emptyError?.file == empty)
    }

    @Test("a UTF-8 byte-order mark and # comment lines are not data")
    func byteOrderMarkAndComments() throws {
        let folder = Fixtures.temporaryFolder()
        let plain = Fixtures.write(csv, to: "plain.csv", in: folder)
        let marked = folder + "/marked.csv"
        let text = "# exported by a spreadsheet\n" + csv.replacingOccurrences(of: "b,0,decode,0,0,7", with: "# a note\nb,0,decode,0,0,7")
        _ = FileManager.default.createFile(atPath: marked, contents: Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8))
        _ = try TraceImport.run(format: .csv, inputs: [plain], output: folder + "/plain.sqlite", options: ImportOptions(experts: 8))
        _ = try TraceImport.run(format: .csv, inputs: [marked], output: folder + "/marked.sqlite", options: ImportOptions(experts: 8))
        let expected = try Fixtures.tokens(of: folder + "/plain.sqlite")
        let got = try Fixtures.tokens(of: folder + "/marked.sqlite")
        #expect(got.map(\.ids) == expected.map(\.ids) && got.map(\.weights) == expected.map(\.weights))

        // Without the fix the mark glued itself to the first column's name.
        let header = folder + "/header.csv"
        _ = FileManager.default.createFile(atPath: header, contents: Data([0xEF, 0xBB, 0xBF]) + Data(csv.utf8))
        #expect(try TraceImport.run(format: .csv, inputs: [header], output: folder + "/h.sqlite", options: ImportOptions(experts: 8)).metadata.tokens == 3)
    }

    /// Rows of eight sequences of two tokens of Mixtral's shape (32 layers, top-2, 8 experts),
    /// as (sequence, token, phase, layer, rank, expert, weight); names of 3 to 10 bytes put the
    /// commas at every offset of an 8-byte word.
    private func mixtralRows() -> [(String, Int, String, Int, Int, Int, String)] {
        var rows: [(String, Int, String, Int, Int, Int, String)] = []
        for (index, name) in (1...8).map({ String(repeating: "q", count: $0) + "/\($0)" }).enumerated() {
            for token in 0..<2 {
                for layer in 0..<32 {
                    for rank in 0..<2 {
                        let expert = (layer * 3 + rank * 5 + token + index) % 8
                        rows.append((name, token, token == 0 ? "prefill" : "decode", layer, rank, expert,
                                     "0.\(rank == 0 ? 6 : 3)\(layer % 10)\(String(repeating: "7", count: layer % 12))"))
                    }
                }
            }
        }
        return rows
    }

    @Test("CSV rows read from their bytes give the same trace as the same rows read through the general path")
    func csvBytesPathMatchesGeneralPath() throws {
        let folder = Fixtures.temporaryFolder()
        let rows = mixtralRows()
        let plain = "sequence,token,phase,layer,rank,expert,weight\n" + rows.map { "\($0.0),\($0.1),\($0.2),\($0.3),\($0.4),\($0.5),\($0.6)\n" }.joined()
        // A non-ASCII note on every row sends each one through the general path.
        let noted = "note,sequence,token,phase,layer,rank,expert,weight\n" + rows.map { "é, \($0.0),\($0.1) ,\($0.2),\($0.3),\($0.4),\($0.5),\($0.6)\n" }.joined()
        let model = ImportOptions(model: ModelPreset.named("mixtral-8x7b"))
        try TraceImport.run(format: .csv, inputs: [Fixtures.write(plain, to: "plain.csv", in: folder)], output: folder + "/plain.sqlite", options: model)
        try TraceImport.run(format: .csv, inputs: [Fixtures.write(noted, to: "noted.csv", in: folder)], output: folder + "/noted.sqlite", options: model)
        let a = try Fixtures.tokens(of: folder + "/plain.sqlite"), b = try Fixtures.tokens(of: folder + "/noted.sqlite")
        #expect(a.count == 16)
        #expect(a.map(\.ids) == b.map(\.ids) && a.map(\.weights) == b.map(\.weights) && a.map(\.phase) == b.map(\.phase))
        #expect(a[0].weights[1] == Float(Float16(0.30)) && a[0].weights[0] == Float(Float16(0.60)))
    }

    @Test("JSON Lines rows read from their bytes give the same trace as the same rows read through JSONSerialization")
    func jsonBytesPathMatchesJSONSerialization() throws {
        let folder = Fixtures.temporaryFolder()
        let rows = mixtralRows()
        let plain = rows.map { "{\"sequence\":\"\($0.0)\",\"token\":\($0.1),\"phase\":\"\($0.2)\",\"layer\":\($0.3),\"rank\":\($0.4),\"expert\":\($0.5),\"weight\":\($0.6)}\n" }.joined()
        // An escaped first letter, blanks, the phase as a number and the weight with an
        // exponent: each row takes JSONSerialization's path.
        let general = rows.map { row in
            let name = "\\u00" + String(row.0.utf8.first!, radix: 16) + row.0.dropFirst()
            return "{ \"weight\" : \(row.6)e0, \"sequence\": \"\(name)\", \"token\":\(row.1), \"phase\":\(row.2 == "prefill" ? 0 : 1), \"layer\":\(row.3),\"rank\":\(row.4),\"expert\":\(row.5) }\n"
        }.joined()
        let model = ImportOptions(model: ModelPreset.named("mixtral-8x7b"))
        try TraceImport.run(format: .jsonl, inputs: [Fixtures.write(plain, to: "plain.jsonl", in: folder)], output: folder + "/plain.sqlite", options: model)
        try TraceImport.run(format: .jsonl, inputs: [Fixtures.write(general, to: "general.jsonl", in: folder)], output: folder + "/general.sqlite", options: model)
        let a = try Fixtures.tokens(of: folder + "/plain.sqlite"), b = try Fixtures.tokens(of: folder + "/general.sqlite")
        #expect(a.count == 16)
        #expect(a.map(\.ids) == b.map(\.ids) && a.map(\.weights) == b.map(\.weights) && a.map(\.phase) == b.map(\.phase))
        #expect(try TraceReader(path: folder + "/general.sqlite").sequences.map(\.name) == (1...8).map { String(repeating: "q", count: $0) + "/\($0)" })
    }

    /// 40 sequences × 10 tokens of Mixtral's shape as long-format rows (25,600; ~2.6 MB of
    /// JSON Lines: several of the reader's 1 MiB runs, each read on two threads).
    private func manyRows() -> [(String, Int, String, Int, Int, Int, String)] {
        var rows: [(String, Int, String, Int, Int, Int, String)] = []
        for s in 0..<40 {
            for t in 0..<10 {
                for l in 0..<32 {
                    let first = (s + t + l) % 8, second = ((s + t + l) % 8 + 1 + s % 7) % 8
                    rows.append(("s\(s)", t, t < 4 ? "prefill" : "decode", l, 0, first, "0.625"))
                    rows.append(("s\(s)", t, t < 4 ? "prefill" : "decode", l, 1, second, "0.375"))
                }
            }
        }
        return rows
    }

    /// `rows` as JSON Lines; every 997th row through JSONSerialization (an escape) and a blank
    /// line after every 1,499th, so that the general path falls on both threads' pieces.
    private func jsonLines(_ rows: [(String, Int, String, Int, Int, Int, String)]) -> String {
        rows.enumerated().map { index, row in
            let name = index % 997 == 0 ? "\\u0073" + row.0.dropFirst() : row.0
            return "{\"sequence\":\"\(name)\",\"token\":\(row.1),\"phase\":\"\(row.2)\",\"layer\":\(row.3),\"rank\":\(row.4),\"expert\":\(row.5),\"weight\":\(row.6)}\n"
                + (index % 1_499 == 0 ? "\n" : "")
        }.joined()
    }

    @Test("JSON Lines read a run at a time on two threads give the same trace as the same rows as CSV")
    func jsonRunsMatchCSV() throws {
        let folder = Fixtures.temporaryFolder()
        let rows = manyRows()
        let csv = "sequence,token,phase,layer,rank,expert,weight\n" + rows.map { "\($0.0),\($0.1),\($0.2),\($0.3),\($0.4),\($0.5),\($0.6)\n" }.joined()
        let jsonl = jsonLines(rows)
        #expect(jsonl.utf8.count > 2 << 20)
        let model = ImportOptions(model: ModelPreset.named("mixtral-8x7b"))
        try TraceImport.run(format: .csv, inputs: [Fixtures.write(csv, to: "in.csv", in: folder)], output: folder + "/c.sqlite", options: model)
        try TraceImport.run(format: .jsonl, inputs: [Fixtures.write(jsonl, to: "in.jsonl", in: folder)], output: folder + "/j.sqlite", options: model)
        let a = try Fixtures.tokens(of: folder + "/c.sqlite"), b = try Fixtures.tokens(of: folder + "/j.sqlite")
        #expect(a.count == 400)
        #expect(a.map(\.sequence) == b.map(\.sequence) && a.map(\.ids) == b.map(\.ids) && a.map(\.weights) == b.map(\.weights) && a.map(\.phase) == b.map(\.phase))
        #expect(try TraceReader(path: folder + "/j.sqlite").sequences.map(\.name) == (0..<40).map { "s\($0)" })
    }

    // Lines 15,000 and 19,000 lie 1.31 and 1.66 MiB into the file: the first and the second
    // half of the second run (from just after 1 MiB to just before 2 MiB).
    @Test("a bad JSON Lines row deep in a run read on two threads is refused with its own line", arguments: [15_000, 19_000])
    func jsonRunErrorNamesItsLine(line: Int) throws {
        let folder = Fixtures.temporaryFolder()
        var lines = jsonLines(manyRows()).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[line - 1].contains("\"decode\""))
        lines[line - 1] = lines[line - 1].replacingOccurrences(of: "\"decode\"", with: "\"later\"")
        let input = Fixtures.write(lines.joined(separator: "\n"), to: "bad.jsonl", in: folder)
        let error = #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .jsonl, inputs: [input], output: folder + "/t.sqlite", options: ImportOptions(model: ModelPreset.named("mixtral-8x7b")))
        }
        #expect(error?.place == "line \(line)" && error?.problem.contains("phase 'later'") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: folder + "/t.sqlite"))
    }

    @Test("with --model the input is read once and a row beyond the model's shape is refused with its line", arguments: [
        ("sequence,token,phase,layer,rank,expert\na,0,decode,0,0,1\na,0,decode,32,1,2\n", "line 3", "uses layer 32, rank 1, expert 2, beyond mixtral-8x7b's 32 layers"),
        ("sequence,token,phase,layer,rank,expert\na,0,decode,0,2,1\n", "line 2", "uses layer 0, rank 2"),
        ("sequence,token,phase,layer,rank,expert\na,0,decode,0,0,8\n", "line 2", "expert 8, beyond"),
        ("sequence,token,phase,layer,rank,expert,weight\na,0,decode,0,0,1,0.5\na,0,decode,0,1,2,\n", "line 3", "gives no weight where the first row gives one"),
        ("sequence,token,phase,layer,rank,expert,weight\na,0,decode,0,0,1,\na,0,decode,0,1,2,0.5\n", "line 3", "gives a weight where the first row gives none"),
    ])
    func modelShapeCheckedPerRow(text: String, place: String, problem: String) throws {
        expectRefusal(of: text, with: ImportOptions(model: ModelPreset.named("mixtral-8x7b")), at: place, saying: problem)
    }

    @Test("a synthetic export's provenance line after real rows labels the trace synthetic, read once or twice")
    func lateProvenanceLabelsTheTrace() throws {
        let folder = Fixtures.temporaryFolder()
        let lines = mixtralRows().map { "{\"sequence\":\"\($0.0)\",\"token\":\($0.1),\"phase\":\"\($0.2)\",\"layer\":\($0.3),\"rank\":\($0.4),\"expert\":\($0.5),\"weight\":\($0.6)}\n" }
        // Two exports joined: a real one's rows, then a synthetic one's provenance line and rows.
        let joined = lines[..<256].joined() + TraceExport.Provenance(synthetic: true, source: "synth --seed 3").jsonLine + lines[256...].joined()
        let input = Fixtures.write(joined, to: "joined.jsonl", in: folder)
        for (name, options) in [("once", ImportOptions(model: ModelPreset.named("mixtral-8x7b"))), ("twice", ImportOptions(experts: 8))] {
            let result = try TraceImport.run(format: .jsonl, inputs: [input], output: folder + "/\(name).sqlite", options: options)
            #expect(result.metadata.synthetic, "\(name)")
            #expect(try TraceReader(path: folder + "/\(name).sqlite").metadata.synthetic, "\(name)")
            #expect(result.metadata.notes.hasSuffix("Exported by moesim from a synthetic trace (synth --seed 3); the routing is synthetic."), "\(name)")
        }
    }
}
