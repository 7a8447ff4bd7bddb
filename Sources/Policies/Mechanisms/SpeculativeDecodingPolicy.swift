import OffloadSim
import TraceStore

/// Speculative decoding with expert prefetch, after SP-MoE (Chen et al., arXiv 2510.10302).
/// Each decode step first runs `draftTokens` tokens of a draft model on the GPU
/// (`draftNanosecondsPerToken` each), then verifies them together with one more token as a
/// single batch through the target model; of the drafts, a leading run is accepted, each
/// with probability `acceptance`, and the step yields that many tokens plus one.
///
/// With `prefetch`, the target's predicted experts for the verification are prefetched in
/// layer order from the start of drafting, and the prefetch keeps running through the
/// verification ahead of the layer being computed (the paper's asynchronous prefetch
/// thread: the copies are queued at prefetch priority, so the engine's demand copies
/// overtake them), up to a **cutoff layer from a latency model** (the paper's
/// "cutoff-layer policy ... based on empirical profiles and an analytical latency model,
/// guaranteeing just-in-time availability without overfetch", abstract). The model here:
/// verification reaches layer *l*'s routed experts, if it never stalls, at
/// `R(l) = draft + Σ_{j≤l} (attention_j + shared_j) + Σ_{j<l} experts_j` (each term from
/// ``GPUCompute`` for the step's tokens, the experts at the predicted tokens per expert);
/// the predicted experts not resident, copied back to back in layer order, finish at
/// `C(l)` (latency + bytes / bandwidth each). Experts are taken while `C(l) ≤ R(l)`; the
/// first that would arrive after its layer needs it is the cutoff, and nothing from there
/// on is prefetched: such a copy would only hold the bus against the demand copies of the
/// experts the predictor missed.
///
/// What the paper's evaluation (hardware, models, draft length, acceptance rates, the
/// exact cutoff formula, batched copies) would add could not be read here: only its
/// abstract and introduction were reachable (README, Policies). Batched I/O is not modelled
/// (each expert is its own copy and pays the link's latency).
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
    /// Whether the target's experts are prefetched from drafting on, up to the cutoff layer (SP-MoE), or not (plain speculative decoding).
    public let prefetchDuringDraft: Bool
    /// Sum over decode steps of the layers prefetched in full (the cutoff layer), for the mean cutoff.
    public private(set) var prefetchedLayers = 0
    /// Decode steps seen.
    public private(set) var decodeSteps = 0
    private let predictor: ExpertPredictor
    private var random: SplitMix64
    private var protection: PrefetchProtection?
    private var buffer: [UInt16] = []
    private var planned: [UInt16] = []
    /// Predicted verification tokens per expert of the layer being planned.
    private var predictedTokens: [Int] = []

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
        let compute = sim.compute
        let link = compute.profile.link
        let experts = sim.cache.expertsPerLayer
        let layers = step.layerStart.count - 1
        let topK = step.decisions / max(1, step.tokens * layers)
        let beforeExperts = Double(compute.attentionNanoseconds(tokens: step.tokens, kvTokens: step.kvTokens, scorePairs: step.scorePairs)
                                   + compute.sharedExpertsNanoseconds(tokens: step.tokens))
        if predictedTokens.count != experts { predictedTokens = Array(repeating: 0, count: experts) }
        // R(l) and C(l) of the latency model, ns from the start of drafting.
        var reaches = Double(Nanoseconds(draftTokens) * draftNanosecondsPerToken)
        var copied = 0.0
        var started: [Int] = []
        defer { protection!.protect(started) }
        for layer in 0..<layers {
            planned.removeAll(keepingCapacity: true)
            for token in 0..<step.tokens {
                buffer.removeAll(keepingCapacity: true)
                predictor.predict(step, token: token, layer: 0, lookahead: layer, width: topK, into: &buffer)
                for expert in buffer {
                    if predictedTokens[Int(expert)] == 0 { planned.append(expert) }
                    predictedTokens[Int(expert)] += 1
                }
            }
            planned.sort()
            reaches += beforeExperts
            var fits = true
            for expert in planned {
                let key = layer * experts + Int(expert)
                guard sim.cache.residency(of: key) == .absent else { continue }
                let cost = Double(link.latencyNs) + Double(sim.cache.bytes(ofKey: key)) / link.gbps
                guard copied + cost <= reaches else {
                    fits = false
                    break
                }
                copied += cost
                if sim.prefetch(layer: layer, expert: Int(expert)) { started.append(key) }
            }
            for expert in planned {
                reaches += Double(compute.expertNanoseconds(layer: layer, tokens: predictedTokens[Int(expert)]))
                predictedTokens[Int(expert)] = 0
            }
            guard fits else { break }
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
