import Foundation
import OffloadSim
import Policies
import Testing
import TraceStore

@Suite("Simulation on real traces")
struct RealTraceSimulationTests {
    static func qwen() throws -> TraceReader? {
        guard let shared = SimFixtures.shared else { return nil }
        let output = SimFixtures.temporaryFolder() + "/qwen.sqlite"
        _ = try TraceImport.run(format: .routeCSV, inputs: [shared + "/bigmoeonedge-route-csv/qwen.route.csv"], output: output,
                                options: ImportOptions(lenient: true))
        return try TraceReader(path: output)
    }

    static func run(_ reader: TraceReader, cacheBytes: Int, eviction: EvictionPolicy = .lru) throws -> SimulationMetrics {
        let model = try ModelCost.resolve(shape: reader.metadata.shape, preset: ModelPreset.named("qwen3-30b-a3b"))
        return try SimFixtures.simulate(reader, model: model, profile: HardwareProfile.preset(named: "rtx-a6000")!,
                                        options: SimulationOptions(cacheBytes: cacheBytes, eviction: eviction))
    }

    @Test("the LRU cliff: a global LRU cache smaller than one token's cycle of all layers never hits in decode")
    func lruCliff() throws {
        guard let reader = try Self.qwen() else { return }
        let shape = reader.metadata.shape
        // One decode token touches 48 layers × 6 experts of the quantised sizes in the trace.
        let cycle = shape.expertBytes!.reduce(0, +) * shape.topK
        let below = try Self.run(reader, cacheBytes: cycle * 9 / 10)
        #expect(below.decodeHitRate == 0)
        #expect(below.tpot.count == 128)
        let above = try Self.run(reader, cacheBytes: cycle * 3)
        #expect(above.decodeHitRate > 0.3)
    }

    @Test("Belady's hit rate bounds LRU, LFU, FIFO and S3-FIFO on the real Qwen3 trace", arguments: [400, 1_500])
    func beladyBoundsOnlineRules(mib: Int) throws {
        guard let reader = try Self.qwen() else { return }
        let optimum = try Self.run(reader, cacheBytes: mib << 20, eviction: .belady).hitRate
        for rule in [EvictionPolicy.lru, .lfu, .fifo, .s3fifo] {
            #expect(try Self.run(reader, cacheBytes: mib << 20, eviction: rule).hitRate <= optimum)
        }
    }

    @Test("the same inputs give byte-identical JSON")
    func determinism() throws {
        let trace = SimFixtures.root + "/traces/demo.sqlite"
        func json() throws -> Data {
            let reader = try TraceReader(path: trace)
            let model = try ModelCost.resolve(shape: reader.metadata.shape, preset: ModelPreset.named("deepseek-v2-lite"))
            let run = SimulationRun(source: reader, model: model, profile: HardwareProfile.preset(named: "rtx-4090")!,
                                    options: SimulationOptions(cacheBytes: 1 << 30, eviction: .s3fifo), batchSize: 3)
            let metrics = try run.run(policy: OnDemandPolicy()).metrics
            let description = RunDescription(trace: trace, traceKind: "synthetic", traceSource: "", model: model.name, hardware: "rtx-4090",
                                             policy: "on-demand", predictor: "none", cacheBytes: 1 << 30, eviction: "s3fifo", batch: 3,
                                             prefillAsDecode: false, notes: [])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return try encoder.encode(SimulationReport(run: description, metrics: metrics))
        }
        let first = try json()
        #expect(first == (try json()))
        #expect(first.count > 1_000)
    }
}
