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
        let folder = Fixtures.temporaryFolder()
        let input = Fixtures.write(text, to: "in.csv", in: folder)
        let error = #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .csv, inputs: [input], output: folder + "/t.sqlite", options: ImportOptions())
        }
        #expect(error?.file == input)
        #expect(error?.place == place)
        #expect(error?.problem.contains(problem) == true, "\(error?.problem ?? "")")
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
}
