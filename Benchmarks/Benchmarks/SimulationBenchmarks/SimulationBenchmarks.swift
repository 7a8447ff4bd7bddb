import Benchmark
import BenchmarkData
import Foundation
import OffloadSim
import Policies
import TraceStore

/// Engine targets (issue 3): at least 10 M routed decisions per second per core for
/// on-demand with an LRU cache at batch 1 on ESFT (trace reading included), and peak
/// memory that does not grow with trace length (ESFT against a 1M-token synthetic trace).
/// Each benchmark prints its decisions per second.
let benchmarks: @Sendable () -> Void = {
    let (esft, synthetic) = (BenchmarkData.esft, BenchmarkData.synthetic)
    guard BenchmarkData.available else { return }

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident, .throughput], timeUnits: .milliseconds,
        maxDuration: .seconds(60), maxIterations: 5)

    /// Simulates `path` under on-demand with a 4 GiB LRU cache on the A6000 preset; returns decisions.
    func simulate(_ path: String, prefillAsDecode: Bool) throws -> Int {
        let reader = try TraceReader(path: path)
        let model = try ModelCost.resolve(shape: reader.metadata.shape, preset: ModelPreset.named("deepseek-v2-lite"))
        let run = SimulationRun(source: reader, model: model, profile: HardwareProfile.preset(named: "rtx-a6000")!,
                                options: SimulationOptions(cacheBytes: 4 << 30, eviction: .lru), batchSize: 1,
                                prefillAsDecode: prefillAsDecode)
        return try run.run(policy: OnDemandPolicy()).metrics.decisions
    }

    func measured(_ label: String, _ body: () throws -> Int) rethrows {
        let start = DispatchTime.now().uptimeNanoseconds
        let decisions = try body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("\(label): \(decisions) decisions in \(String(format: "%.3f", seconds)) s = \(String(format: "%.1f", Double(decisions) / seconds / 1e6)) M decisions/s")
    }

    Benchmark("ESFT on-demand + 4 GiB LRU, batch 1, prompts as prefill steps (5.19 M decisions)", configuration: .init(setup: BenchmarkData.ensureESFT)) { benchmark in
        for _ in benchmark.scaledIterations {
            try measured("ESFT prefill steps") { try simulate(esft, prefillAsDecode: false) }
        }
    }

    Benchmark("ESFT on-demand + 4 GiB LRU, batch 1, one token per step (5.19 M decisions)", configuration: .init(setup: BenchmarkData.ensureESFT)) { benchmark in
        for _ in benchmark.scaledIterations {
            try measured("ESFT token steps") { try simulate(esft, prefillAsDecode: true) }
        }
    }

    Benchmark("Synthetic 1M-token on-demand + 4 GiB LRU, batch 1 (156 M decisions)", configuration: .init(maxIterations: 2, setup: BenchmarkData.ensureSynthetic)) { benchmark in
        for _ in benchmark.scaledIterations {
            try measured("1M-token synthetic") { try simulate(synthetic, prefillAsDecode: false) }
        }
    }
}
