import Benchmark
import Foundation
import TraceStore

/// Trace-store targets (issue 2): import of the whole ESFT set under 10 s, a full
/// streaming read of it under 0.5 s, and memory that does not grow with trace length
/// (a 1M-token synthetic trace read with the same peak as ESFT).
let benchmarks: @Sendable () -> Void = {
    let shared = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/traces").path
    let scratch = NSTemporaryDirectory() + "moesim-bench"
    try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    let esft = scratch + "/esft.sqlite"
    let synthetic = scratch + "/synthetic-1m.sqlite"
    guard FileManager.default.fileExists(atPath: shared + "/esft-deepseek-v2-lite") else {
        print("skipping: \(shared) is not present")
        return
    }

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident, .throughput], timeUnits: .milliseconds,
        maxDuration: .seconds(60), maxIterations: 5)

    Benchmark("ESFT import (33,279 tokens × 26 layers × top-6, with weights)", configuration: .init(maxIterations: 3)) { benchmark in
        for _ in benchmark.scaledIterations {
            try TraceImport.run(format: .esft, inputs: [shared + "/esft-deepseek-v2-lite"], output: esft, options: ImportOptions())
        }
    }

    Benchmark("ESFT streaming read (5.19 M decisions)", configuration: .init(setup: {
        if !FileManager.default.fileExists(atPath: esft) {
            try TraceImport.run(format: .esft, inputs: [shared + "/esft-deepseek-v2-lite"], output: esft, options: ImportOptions())
        }
    })) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try readAll(esft))
        }
    }

    Benchmark("Synthetic 1M-token streaming read (156 M decisions)", configuration: .init(maxIterations: 2, setup: {
        if !FileManager.default.fileExists(atPath: synthetic) {
            try TraceSynthesis.run(.init(model: ModelPreset.named("deepseek-v2-lite"), tokens: 1_000_000, seed: 1, like: esft), output: synthetic)
        }
    })) { benchmark in
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
