import Foundation
import Testing
import TraceStore

@Suite("Export to the generic long format")
struct TraceExportTests {
    @Test("import → export → import is lossless on ids and fp16 weights", arguments: [TraceExport.Syntax.csv, .jsonl])
    func roundTrip(syntax: TraceExport.Syntax) throws {
        let folder = Fixtures.temporaryFolder()
        try Fixtures.tinyTrace(at: folder + "/a.sqlite", sequences: 4, decode: 9)
        let rows = try TraceExport.run(trace: TraceReader(path: folder + "/a.sqlite"), syntax: syntax, output: folder + "/a.\(syntax)")
        #expect(rows == 4 * 11 * 3 * 2)
        let format: ImportFormat = syntax == .csv ? .csv : .jsonl
        try TraceImport.run(format: format, inputs: [folder + "/a.\(syntax)"], output: folder + "/b.sqlite", options: ImportOptions(experts: 8))
        let a = try Fixtures.tokens(of: folder + "/a.sqlite"), b = try Fixtures.tokens(of: folder + "/b.sqlite")
        #expect(a.map(\.ids) == b.map(\.ids))
        #expect(a.map(\.weights) == b.map(\.weights))
        #expect(a.map(\.phase) == b.map(\.phase))
        #expect(a.map(\.sequence) == b.map(\.sequence))
    }

    @Test("the real ESFT trace survives import → export → import bit for bit")
    func realRoundTrip() throws {
        guard Fixtures.hasShared, let shared = Fixtures.shared else { return }
        let folder = Fixtures.temporaryFolder()
        try TraceImport.run(format: .esft, inputs: [shared + "/esft-deepseek-v2-lite/summary"], output: folder + "/a.sqlite", options: ImportOptions())
        try TraceExport.run(trace: TraceReader(path: folder + "/a.sqlite"), syntax: .csv, output: folder + "/a.csv")
        try TraceImport.run(format: .csv, inputs: [folder + "/a.csv"], output: folder + "/b.sqlite",
                            options: ImportOptions(model: ModelPreset.named("deepseek-v2-lite")))
        let a = try Fixtures.tokens(of: folder + "/a.sqlite"), b = try Fixtures.tokens(of: folder + "/b.sqlite")
        #expect(a.count == 8479)
        #expect(a.map(\.ids) == b.map(\.ids))
        #expect(a.map(\.weights) == b.map(\.weights))
    }

    @Test("the CSV export starts with the documented header and rank-ordered rows")
    func csvLayout() throws {
        let folder = Fixtures.temporaryFolder()
        try Fixtures.tinyTrace(at: folder + "/a.sqlite", sequences: 1, decode: 0)
        try TraceExport.run(trace: TraceReader(path: folder + "/a.sqlite"), syntax: .csv, output: folder + "/a.csv")
        let lines = try String(contentsOfFile: folder + "/a.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines[0] == "sequence,token,phase,layer,rank,expert,weight")
        #expect(lines[1] == "s0,0,prefill,0,0,0,0.75")
        #expect(lines[2] == "s0,0,prefill,0,1,1,0.25")
    }

    @Test("a synthetic trace's export re-imports as synthetic, in both syntaxes", arguments: [TraceExport.Syntax.csv, .jsonl])
    func syntheticLabelSurvives(syntax: TraceExport.Syntax) throws {
        let folder = Fixtures.temporaryFolder()
        let request = TraceSynthesis.Request(model: ModelPreset.named("mixtral-8x7b"), tokens: 40, seed: 5, like: nil, prefill: 4, decode: 16)
        let synthetic = try TraceSynthesis.run(request, output: folder + "/s.sqlite")
        #expect(synthetic.synthetic)
        try TraceExport.run(trace: TraceReader(path: folder + "/s.sqlite"), syntax: syntax, output: folder + "/s.\(syntax)")
        let format: ImportFormat = syntax == .csv ? .csv : .jsonl
        let back = try TraceImport.run(format: format, inputs: [folder + "/s.\(syntax)"], output: folder + "/b.sqlite", options: ImportOptions())
        #expect(back.metadata.synthetic && back.metadata.provenanceLabel == "synthetic")
        #expect(back.metadata.notes.contains("Exported by moesim from a synthetic trace (\(synthetic.source))"))
        #expect(try Fixtures.tokens(of: folder + "/b.sqlite").map(\.ids) == Fixtures.tokens(of: folder + "/s.sqlite").map(\.ids))
        // A real trace's export carries no provenance line and re-imports as real.
        try Fixtures.tinyTrace(at: folder + "/r.sqlite")
        try TraceExport.run(trace: TraceReader(path: folder + "/r.sqlite"), syntax: syntax, output: folder + "/r.\(syntax)")
        #expect(try !TraceImport.run(format: format, inputs: [folder + "/r.\(syntax)"], output: folder + "/r2.sqlite", options: ImportOptions(experts: 8)).metadata.synthetic)
    }
}
