import Benchmark
import BenchmarkData
import Foundation
import TraceStore

/// Trace-store targets (issue 2): import of the whole ESFT set under 10 s, a full
/// streaming read of it under 0.5 s, and memory that does not grow with trace length
/// (a 1M-token synthetic trace read with the same peak as ESFT).
let benchmarks: @Sendable () -> Void = {
    let (esft, synthetic) = (BenchmarkData.esft, BenchmarkData.synthetic)
    guard BenchmarkData.available else { return }

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident, .throughput], timeUnits: .milliseconds,
        maxDuration: .seconds(60), maxIterations: 5)

    Benchmark("ESFT import (33,279 tokens × 26 layers × top-6, with weights)", configuration: .init(maxIterations: 3)) { benchmark in
        for _ in benchmark.scaledIterations {
            try BenchmarkData.importESFT()
        }
    }

    Benchmark("ESFT streaming read (5.19 M decisions)", configuration: .init(setup: BenchmarkData.ensureESFT)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try readAll(esft))
        }
    }

    Benchmark("Synthetic 1M-token streaming read (156 M decisions)", configuration: .init(maxIterations: 2, setup: BenchmarkData.ensureSynthetic)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try readAll(synthetic))
        }
    }

    Benchmark("ESFT trace stats (two streaming passes)", configuration: .init(maxIterations: 3)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try TraceStatistics(trace: TraceReader(path: esft)))
        }
    }
}

/// Decodes every chunk (ids and weights) and sums the ids, so that nothing is skipped.
func readAll(_ path: String) throws -> Int {
    let reader = try TraceReader(path: path)
    let cursor = try reader.chunks()
    var chunk = cursor.makeChunk()
    var sum = 0
    while try cursor.next(into: &chunk) {
        sum &+= chunk.ids.reduce(0) { $0 &+ Int($1) } &+ chunk.weightBits.count
    }
    return sum
}
