import Foundation
import Testing
import TraceStore

/// ESFT input problems, on small generated task folders.
@Suite("ESFT importer")
struct ESFTImportTests {
    /// A task folder with 26 layer files, each holding `lines`.
    func task(_ lines: (Int) -> String) -> String {
        let folder = Fixtures.temporaryFolder() + "/task"
        try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for layer in 1...26 { Fixtures.write(lines(layer), to: "expert_weights_\(layer).txt", in: folder) }
        return folder
    }

    let goodLine = "1\t2\t3\t4\t5\t6\t\t0.1\t0.2\t0.3\t0.1\t0.1\t0.1\n"

    @Test("a well-formed task folder imports as prefill tokens with weights")
    func wellFormed() throws {
        let folder = task { _ in goodLine + goodLine }
        let result = try TraceImport.run(format: .esft, inputs: [folder], output: folder + "/../t.sqlite", options: ImportOptions())
        #expect(result.metadata.tokens == 2)
        #expect(result.metadata.sequences == 2)
        #expect(try Fixtures.tokens(of: folder + "/../t.sqlite")[1].ids.prefix(6) == [3, 2, 1, 4, 5, 6])
    }

    @Test("a weight of many digits is read, not overflowed (a fuzzer find: the fast path's mantissa trapped past 18 digits)")
    func longWeight() throws {
        let long = "0.1000000000000000000000000000001"
        let folder = task { $0 == 2 ? "1\t2\t3\t4\t5\t6\t\t\(long)\t0.2\t0.3\t0.1\t0.1\t0.1\n" : goodLine }
        let result = try TraceImport.run(format: .esft, inputs: [folder], output: folder + "/../t.sqlite", options: ImportOptions())
        #expect(result.metadata.tokens == 1)
        #expect(try Fixtures.tokens(of: folder + "/../t.sqlite")[0].weights.contains(Float(Float16(0.1))))
    }

    @Test("an id count that is not a multiple of top-k is an inconsistent top-k")
    func inconsistentTopK() throws {
        let folder = task { $0 == 5 ? "1\t2\t3\t4\t5\t\t0.1\t0.2\t0.3\t0.1\t0.1\n" : goodLine }
        let error = #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .esft, inputs: [folder], output: folder + "/../t.sqlite", options: ImportOptions())
        }
        #expect(error?.file.hasSuffix("expert_weights_5.txt") == true)
        #expect(error?.place == "line 1")
        #expect(error?.problem.contains("inconsistent top-k") == true)
    }

    @Test("an expert id beyond the model's experts is refused with the place")
    func idOutOfRange() throws {
        let folder = task { $0 == 3 ? "1\t2\t3\t4\t5\t64\t\t0.1\t0.2\t0.3\t0.1\t0.1\t0.1\n" : goodLine }
        let error = #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .esft, inputs: [folder], output: folder + "/../t.sqlite", options: ImportOptions())
        }
        #expect(error?.place.hasPrefix("line 1") == true)
        #expect(error?.problem.contains("expert 64, outside 0..<64") == true)
    }

    @Test("layer files with different line counts are refused")
    func truncatedLayer() throws {
        let folder = task { $0 == 26 ? goodLine : goodLine + goodLine }
        let error = #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .esft, inputs: [folder], output: folder + "/../t.sqlite", options: ImportOptions())
        }
        #expect(error?.problem.contains("different numbers of lines") == true)
    }

    @Test("empty layer files are refused as empty")
    func empty() throws {
        let folder = task { _ in "" }
        let error = #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .esft, inputs: [folder], output: folder + "/../t.sqlite", options: ImportOptions())
        }
        #expect(error?.problem == "is empty")
    }

    @Test("non-numeric bytes in a layer file are named with the field")
    func garbage() throws {
        let folder = task { $0 == 2 ? "1\t2\t\u{00e9}\t4\t5\t6\t\t0.1\t0.2\t0.3\t0.1\t0.1\t0.1\n" : goodLine }
        let error = #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .esft, inputs: [folder], output: folder + "/../t.sqlite", options: ImportOptions())
        }
        #expect(error?.place == "line 1, field 3")
    }
}
