import Lab
import OffloadSim
import Policies
import TraceStore

/// What a successfully read input leads to: every chunk decoded and checked, the
/// statistics `trace stats` prints, and short simulations without and with a cache.
enum Exercise {
    /// Traces up to this many tokens are simulated (larger ones are only decoded), so
    /// that one input costs milliseconds.
    static let simulatedTokens = 20_000

    /// Reads the trace at `path` through everything a user's command would.
    static func trace(at path: String) {
        guard let reader = try? TraceReader(path: path) else { return }
        _ = try? TraceVerification.run(reader)
        _ = try? TraceStatistics(trace: reader)
        simulate(reader)
    }

    /// Simulates `reader` on the RTX A6000 preset (or `profile`) under on-demand (or
    /// `policy`, on `engine`), once without a cache and once with room for four experts.
    static func simulate(_ reader: TraceReader, profile: HardwareProfile? = nil, policy: PolicySpec? = nil, engine: ServingEngine? = nil) {
        guard reader.metadata.tokens <= simulatedTokens else { return }
        let largest = reader.metadata.shape.expertBytes?.max() ?? 20_000_000
        for cache in [nil, RunSetup.CacheBudget.bytes(4 * largest)] {
            guard var setup = try? RunSetup(
                trace: reader, model: nil, expertDType: nil, hardware: "rtx-a6000", policy: "on-demand", cache: cache,
                eviction: nil, partitioned: false, batch: 2, prefillAsDecode: false, stagingBuffers: 2, seed: 1, timelineSteps: 0)
            else { continue }
            if let profile { setup.profile = profile }
            if let policy { setup.policy = policy }
            if let engine { setup.options.engine = engine }
            _ = try? setup.run()
        }
    }
}
