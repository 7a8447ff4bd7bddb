import Foundation
import Testing
import TraceStore

@Suite("Synthetic traces")
struct TraceSynthesisTests {
    @Test("a trace synthesised like ESFT matches its per-layer statistics within 10%")
    func matchesESFT() throws {
        guard Fixtures.hasShared, let shared = Fixtures.shared else { return }
        let folder = Fixtures.temporaryFolder()
        try TraceImport.run(format: .esft, inputs: [shared + "/esft-deepseek-v2-lite"], output: folder + "/esft.sqlite", options: ImportOptions())
        let meta = try TraceSynthesis.run(.init(model: ModelPreset.named("deepseek-v2-lite"), tokens: 33_279, seed: 11, like: folder + "/esft.sqlite"),
                                          output: folder + "/syn.sqlite")
        #expect(meta.synthetic)
        let real = try TraceStatistics(trace: TraceReader(path: folder + "/esft.sqlite"))
        let synthetic = try TraceStatistics(trace: TraceReader(path: folder + "/syn.sqlite"))
        #expect(synthetic.provenance == "synthetic")
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 0.10 * abs(a) }
        #expect(synthetic.decodeShare == real.decodeShare)
        for (r, s) in zip(real.layers, synthetic.layers) {
            #expect(close(r.entropyBits, s.entropyBits), "layer \(r.layer) entropy \(r.entropyBits) vs \(s.entropyBits)")
            #expect(close(r.topDecileShare, s.topDecileShare), "layer \(r.layer) skew \(r.topDecileShare) vs \(s.topDecileShare)")
            #expect(close(r.reuse, s.reuse), "layer \(r.layer) reuse \(r.reuse) vs \(s.reuse)")
            if let ra = r.affinityRecall, let sa = s.affinityRecall {
                #expect(close(ra, sa), "layer \(r.layer) affinity \(ra) vs \(sa)")
            }
        }
    }

    @Test("the same request and seed give the same file; another seed another")
    func deterministic() throws {
        let folder = Fixtures.temporaryFolder()
        let model = ModelPreset.named("olmoe-1b-7b")
        try TraceSynthesis.run(.init(model: model, tokens: 700, seed: 5), output: folder + "/a.sqlite")
        try TraceSynthesis.run(.init(model: model, tokens: 700, seed: 5), output: folder + "/b.sqlite")
        try TraceSynthesis.run(.init(model: model, tokens: 700, seed: 6), output: folder + "/c.sqlite")
        let a = FileManager.default.contents(atPath: folder + "/a.sqlite")
        #expect(a == FileManager.default.contents(atPath: folder + "/b.sqlite"))
        #expect(a != FileManager.default.contents(atPath: folder + "/c.sqlite"))
    }

    @Test("without a reference the parametric generator gives the requested mix and reuse near 0.3")
    func parametric() throws {
        let path = Fixtures.temporaryFolder() + "/p.sqlite"
        let meta = try TraceSynthesis.run(.init(model: ModelPreset.named("mixtral-8x7b"), tokens: 1000, seed: 2, prefill: 10, decode: 40), output: path)
        #expect(meta.prefillTokens == 200 && meta.decodeTokens == 800 && meta.sequences == 20)
        #expect(meta.notes.hasPrefix("SYNTHETIC"))
        let stats = try TraceStatistics(trace: TraceReader(path: path))
        // Reuse = 0.3 replaced slots plus chance overlap of the Zipf draws (8 experts, top-2): well above 0.3, below 1.
        #expect(stats.meanReuse > 0.3 && stats.meanReuse < 0.9)
        #expect(stats.layers.allSatisfy { $0.distinctExperts == 8 })
    }

    @Test("a reference of another shape than --model is refused")
    func shapeMismatch() throws {
        let folder = Fixtures.temporaryFolder()
        try Fixtures.tinyTrace(at: folder + "/tiny.sqlite")
        let error = #expect(throws: TraceStoreError.self) {
            try TraceSynthesis.run(.init(model: ModelPreset.named("mixtral-8x7b"), tokens: 10, seed: 1, like: folder + "/tiny.sqlite"), output: folder + "/s.sqlite")
        }
        #expect(error?.problem.contains("3 layers × 8 experts") == true)
    }
}
