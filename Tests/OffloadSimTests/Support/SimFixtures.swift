import Foundation
import OffloadSim
import Policies
import TestSupport
import TraceStore

/// Hand-built traces, hardware and models for engine tests whose numbers are worked out by hand.
enum SimFixtures {
    /// The repository root.
    static let root = Repository.root

    /// `../shared/traces` beside the repository, or nil after saying that the test skips.
    static var shared: String? { Repository.requireShared() }

    /// A fresh temporary folder.
    static func temporaryFolder() -> String { Repository.temporaryFolder() }

    /// One token: its phase and its layers × top-k ids, layer by layer.
    typealias Token = (phase: Phase, ids: [UInt16])

    /// Writes a real trace file (SQLite + zstd, through ``TraceWriter``) holding `sequences`.
    /// With `weights`, token t of sequence s has gate weights `weights[s][t]` (as its ids).
    static func trace(_ sequences: [[Token]], layers: Int, experts: Int, topK: Int, expertBytes: Int = 1_000_000,
                      chunkTokens: Int = 4096, weights: [[[Float]]]? = nil) throws -> TraceReader {
        let path = temporaryFolder() + "/hand.sqlite"
        let shape = ModelShape(name: "hand", layers: layers, experts: experts, topK: topK,
                               expertBytes: Array(repeating: expertBytes, count: layers))
        let meta = TraceMetadata(shape: shape, hasWeights: weights != nil, synthetic: false, source: "hand-built test trace", importer: "test")
        let writer = try TraceWriter(path: path, metadata: meta, options: .init(chunkTokens: chunkTokens, compressionLevel: 1))
        for (index, tokens) in sequences.enumerated() {
            writer.beginSequence(name: "s\(index)")
            for (position, token) in tokens.enumerated() {
                try writer.appendToken(phase: token.phase, ids: token.ids, weights: weights?[index][position])
            }
        }
        _ = try writer.finish()
        return try TraceReader(path: path)
    }

    /// A model whose costs are easy to add up: attention reads `attentionBytes`, experts
    /// `expertBytes`, no FLOPs, no KV cache.
    static func model(layers: Int, experts: Int, expertBytes: Int = 1_000_000, attentionBytes: Int = 500_000) -> ModelCost {
        ModelCost(name: "hand", layers: layers, experts: experts, expertBytes: Array(repeating: expertBytes, count: layers),
                  expertParameters: 0, attentionParameters: 0, attentionBytes: attentionBytes, kvBytesPerToken: 0, queryWidth: 0)
    }

    /// Hardware with round numbers: `hbm` GB/s at full efficiency, no launch overhead, the given link.
    static func profile(hbm: Double = 1_000, link: BusLink = BusLink(gbps: 25, latencyNs: 5_000)) -> HardwareProfile {
        HardwareProfile(name: "hand", displayName: "hand-computed GPU", source: "test", hbmGBps: hbm, peakTFLOPS: 100,
                        memoryGiB: 80, memoryEfficiency: 1, computeEfficiency: 1, launchOverheadNs: 0, link: link)
    }

    /// Runs on-demand over `reader` and returns the metrics.
    static func simulate(_ reader: TraceReader, model: ModelCost, profile: HardwareProfile, options: SimulationOptions = .init(),
                         batch: Int = 1) throws -> SimulationMetrics {
        let run = SimulationRun(source: reader, model: model, profile: profile, options: options, batchSize: batch)
        return try run.run(policy: OnDemandPolicy()).metrics
    }
}

