import OffloadSim
import TraceStore

/// Speculative decoding with expert prefetch during drafting, after SP-MoE (arXiv
/// 2510.10302). Each decode step first runs `draftTokens` tokens of a draft model on the
/// GPU (`draftNanosecondsPerToken` each), then verifies them together with one more token
/// as a single batch through the target model; of the drafts, a leading run is accepted,
/// each with probability `acceptance`, and the step yields that many tokens plus one.
/// With `prefetch`, the target's experts for the verification are prefetched while the
/// draft runs, in layer order up to a cutoff chosen by a latency model: experts are taken
/// while their cumulative copy time (latency + bytes / bandwidth, for those not already
/// resident) fits in the drafting time, so the cutoff falls inside the first layer that
/// does not fit.
///
/// The trace supplies the verified tokens' routing: a step consumes `draftTokens + 1`
/// generated tokens of the trace whatever is accepted, the rejected ones standing in for
/// the tokens the next step re-verifies.
public final class SpeculativeDecodingPolicy: OffloadPolicy {
    public let name: String
    public var predictorName: String { prefetchDuringDraft ? predictor.name : "none" }
    /// Draft tokens per step.
    public let draftTokens: Int
    /// Draft model time per token, ns.
    public let draftNanosecondsPerToken: Nanoseconds
    /// Probability that each draft token is accepted.
    public let acceptance: Double
    /// Whether the target's experts are prefetched during drafting (SP-MoE) or not (plain speculative decoding).
    public let prefetchDuringDraft: Bool
    /// Sum over decode steps of the layers prefetched in full, for the mean cutoff.
    public private(set) var prefetchedLayers = 0
    /// Decode steps seen.
    public private(set) var decodeSteps = 0
    private let predictor: ExpertPredictor
    private var random: SplitMix64
    private var protection: PrefetchProtection?
    private var buffer: [UInt16] = []

    /// A policy drafting `draftTokens` per step.
    public init(name: String, predictor: ExpertPredictor, draftTokens: Int, draftNanosecondsPerToken: Nanoseconds,
                acceptance: Double, prefetch: Bool, seed: UInt64) {
        self.name = name
        self.predictor = predictor
        self.draftTokens = draftTokens
        self.draftNanosecondsPerToken = draftNanosecondsPerToken
        self.acceptance = acceptance
        prefetchDuringDraft = prefetch
        random = SplitMix64(seed: seed, stream: "draft-acceptance")
    }

    public func stepStarted(in sim: inout Simulation) {
        if protection == nil { protection = PrefetchProtection(layers: sim.step.layerStart.count - 1, experts: sim.cache.expertsPerLayer) }
        protection!.releaseAll()
        guard sim.step.phase == .decode else { return }
        decodeSteps += 1
        guard prefetchDuringDraft else { return }
        let step = sim.step
        let link = sim.compute.profile.link
        let budget = Double(Nanoseconds(draftTokens) * draftNanosecondsPerToken)
        let experts = sim.cache.expertsPerLayer
        let layers = step.layerStart.count - 1
        let topK = step.decisions / max(1, step.tokens * layers)
        var spent = 0.0
        var started: [Int] = []
        defer { protection!.protect(started) }
        layers: for layer in 0..<layers {
            var planned = Set<UInt16>()
            for token in 0..<step.tokens {
                buffer.removeAll(keepingCapacity: true)
                predictor.predict(step, token: token, layer: 0, lookahead: layer, width: topK, into: &buffer)
                planned.formUnion(buffer)
            }
            for expert in planned.sorted() {
                let key = layer * experts + Int(expert)
                guard sim.cache.residency(of: key) == .absent else { continue }
                let cost = Double(link.latencyNs) + Double(sim.cache.bytes(ofKey: key)) / link.gbps
                guard spent + cost <= budget else { break layers }
                spent += cost
                if sim.prefetch(layer: layer, expert: Int(expert)) { started.append(key) }
            }
            prefetchedLayers += 1
        }
    }

    public func draftNanoseconds(in sim: inout Simulation) -> Nanoseconds {
        sim.step.phase == .decode ? Nanoseconds(draftTokens) * draftNanosecondsPerToken : 0
    }

    public func producedTokens(in sim: inout Simulation) -> Int {
        var accepted = 0
        while accepted < draftTokens && random.uniform() < acceptance { accepted += 1 }
        let verified = sim.step.tokens / max(1, sim.step.sequences.count)
        return min(accepted + 1, max(1, verified))
    }

    public func planLayer(_ layer: Int, in sim: inout Simulation) {
        protection?.release(layer: layer)
    }

    public func mayEvict(_ key: Int) -> Bool { !(protection?.contains(key) ?? false) }
}
