import Foundation
import OffloadSim
import Testing
import TraceStore

/// The BigMoeOnEdge route CSVs (../shared/traces/bigmoeonedge-route-csv) carry, per routed
/// expert, whether the recording engine found it resident (column `residency`). That engine
/// (github.com/Helldez/BigMoeOnEdge, core/src/moe/expert_stream_source.cpp `load_layer`) keeps an
/// LRU expert cache of `--cache-mb` MiB, stages a whole layer batch and evicts to the budget after
/// it (after-batch admission), and looks experts up in rank order. Its runs used 4000 MiB (qwen,
/// gemma) and 3000 MiB (gpt-oss; `--cache-mb auto` capped at 3000), as the session's findings.md
/// and gptoss.log say. Replayed with those rules, moesim must count the engine's decode hits.
@Suite("Cache replay against the engine that recorded the route CSVs")
struct PeerCacheReplayTests {
    @Test("decode hits equal the recording engine's residency within a tenth of a point",
          arguments: [("qwen", 4_000), ("gemma", 4_000), ("gptoss", 3_000)])
    func decodeHitsMatchResidency(name: String, mib: Int) throws {
        guard let shared = SimFixtures.shared else { return }
        let csv = shared + "/bigmoeonedge-route-csv/\(name).route.csv"
        // The engine's own count, straight from its CSV.
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        let header = lines[0].split(separator: ",").map(String.init)
        let (phase, residency) = (header.firstIndex(of: "phase")!, header.firstIndex(of: "residency")!)
        var decodeRows = 0, decodeResident = 0
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields[phase] == "1" else { continue }
            decodeRows += 1
            if fields[residency] == "1" { decodeResident += 1 }
        }
        let output = SimFixtures.temporaryFolder() + "/\(name).sqlite"
        _ = try TraceImport.run(format: .routeCSV, inputs: [csv], output: output, options: ImportOptions(lenient: true))
        let reader = try TraceReader(path: output)
        let model = try ModelCost.resolve(shape: reader.metadata.shape, preset: nil)
        let metrics = try SimFixtures.simulate(reader, model: model, profile: HardwareProfile.preset(named: "rtx-a6000")!,
                                               options: SimulationOptions(cacheBytes: mib << 20, eviction: .lru, admission: .afterBatch,
                                                                          lookupOrder: .rank))
        // Decode steps are one token: one lookup per routed decision, as the CSV has one row per decision.
        #expect(metrics.layers.reduce(0) { $0 + $1.decodeLookups } == decodeRows)
        let simulated = metrics.decodeHitRate, recorded = Double(decodeResident) / Double(decodeRows)
        #expect(abs(simulated - recorded) < 0.001, "\(name): moesim \(simulated), engine \(recorded)")
    }
}
