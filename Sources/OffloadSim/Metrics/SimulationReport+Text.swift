import Foundation
import TraceStore

extension SimulationReport {
    /// A readable summary: what was assumed (trace, hardware, policy, predictor) first,
    /// then the headline metrics and the busiest layers.
    public var text: String {
        let m = metrics
        func ms(_ ns: Double?) -> String { ns.map { String(format: "%.3f ms", $0 / 1e6) } ?? "n/a" }
        func pct(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }
        // Without a cache, moesim's engine streams through two staging buffers; another engine goes its own way (see its line).
        let uncached = run.engine == ServingEngine.moesim.label ? "none (double-buffered streaming)" : "none"
        let cache = run.cacheBytes == 0 ? uncached : "\(Format.bytes(run.cacheBytes)), \(run.eviction)"
        var lines = [
            "trace      \(run.trace)  [\(run.traceKind.uppercased())]",
            "model      \(run.model)",
            "hardware   \(run.hardware)",
            "engine     \(run.engine)",
            "policy     \(run.policy) (predictor: \(run.predictor)); cache \(cache); batch \(run.batch)\(run.prefillAsDecode ? "; prompt tokens replayed one per step" : "")",
        ]
        for note in run.notes { lines.append("note       \(note)") }
        lines += [
            "",
            "steps      \(m.steps) (\(m.prefillSteps) prefill, \(m.decodeSteps) decode); \(m.tokens) tokens, \(m.decisions) routed decisions",
            "TPOT       mean \(ms(m.tpot.mean)), p50 \(ms(m.tpot.quantile(0.5))), p99 \(ms(m.tpot.quantile(0.99)))",
            "TTFT       mean \(ms(m.ttft.mean)), p99 \(ms(m.ttft.quantile(0.99)))",
            "throughput \(String(format: "%.2f", m.tokensPerSecond)) output tokens/s over \(ms(Double(m.makespanNs)))",
            "stall      \(pct(m.stallShare)) of time the compute stream waits on copies\(m.cpuExperts > 0 ? " and CPU experts" : "") (decode steps: \(pct(m.decodeStallShare)))"
                + (m.hostWaitNs > 0 ? "; \(pct(m.hostWaitShare)) on the host (syncs, copy calls)" : ""),
            // One GPU's share; an expert-parallel run prints each GPU's on its GPUs line.
            parallel == nil ? "gpu        busy \(pct(m.gpuBusyShare)) (at least one kernel running, as NVML's utilization.gpu counts; \(ms(Double(m.launchGapNs))) of launch gaps idle); "
                + "\(pct(m.gpuBusyShareWithLoad)) counting the model's load before the run (\(ms(Double(m.modelLoadNs))) "
                + (m.modelLoadAtPageableRate ? "from pageable memory)" : "at the pinned rate, a lower bound: the profile has no pageable one)") : nil,
            "bus        busy \(pct(m.busBusyShare)); moved \(Format.bytes(m.bytesMoved)) (demand \(Format.bytes(m.demandBytes)), prefetch \(Format.bytes(m.prefetchBytes)), wasted \(Format.bytes(m.wastedBytes)))",
            "cache      hit rate \(pct(m.hitRate)) (decode \(pct(m.decodeHitRate))) over \(m.lookups) lookups, \(pct(m.inFlightRate)) found their copy under way; \(m.evictions) evictions; \(m.stagedExperts) experts streamed through staging",
        ].compactMap { $0 }
        if m.routingFidelity < 1 || m.cpuExperts > 0 || m.lowPrecisionExperts > 0 {
            lines.append("execution  routing fidelity \(Format.fixed(m.routingFidelity, 4)); \(m.cpuExperts) experts on the CPU (\(ms(Double(m.cpuNs)))); \(m.lowPrecisionExperts) low-precision copies")
        }
        if let parallel {
            lines.append("GPUs       \(parallel.gpus): expert utilisation " + parallel.utilisation.map { Format.fixed($0 * 100, 1) + "%" }.joined(separator: ", ")
                         + "; \(parallel.replicasMade) replicas copied (\(Format.bytes(parallel.replicationBytes))); all-to-all \(Format.bytes(parallel.allToAllBytes))")
        }
        let worst = m.layers.indices.sorted { m.layers[$0].stallNs != m.layers[$1].stallNs ? m.layers[$0].stallNs > m.layers[$1].stallNs : $0 < $1 }.prefix(3)
        if m.stallNs > 0 {
            lines.append("most stall " + worst.map { "layer \($0): \(ms(Double(m.layers[$0].stallNs))) (hit rate \(pct(m.layers[$0].hitRate)))" }.joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }
}
