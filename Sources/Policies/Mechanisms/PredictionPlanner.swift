import OffloadSim

/// Turns a predictor's per-token guesses into what prefetching policies act on: the union
/// of the step's tokens' predicted experts for a target layer, and a record of what was
/// prefetched so that it is kept from eviction until its layer has run.
///
/// Costs O(tokens × width) per layer; memory O(layers × experts).
struct PredictionPlanner {
    let predictor: ExpertPredictor
    let lookahead: Int
    let width: Int
    private var buffer: [UInt16] = []
    private var protection: PrefetchProtection
    /// Per token, the last prediction made for a target layer (for speculative execution).
    private(set) var perToken: [[UInt16]] = []
    /// The target layer `perToken` refers to (-1 for none).
    private(set) var perTokenLayer = -1

    init(predictor: ExpertPredictor, lookahead: Int, width: Int, layers: Int, experts: Int) {
        self.predictor = predictor
        self.lookahead = lookahead
        self.width = width
        protection = PrefetchProtection(layers: layers, experts: experts)
    }

    /// The distinct experts the step's tokens are predicted to use at `layer + lookahead`,
    /// ascending, each with the number of tokens predicting it; also kept per token.
    mutating func predict(_ step: Step, from layer: Int) -> [(expert: UInt16, tokens: Int32)] {
        perToken.removeAll(keepingCapacity: true)
        perTokenLayer = layer + lookahead
        var counts: [Int: Int32] = [:]
        for token in 0..<step.tokens {
            buffer.removeAll(keepingCapacity: true)
            predictor.predict(step, token: token, layer: layer, lookahead: lookahead, width: width, into: &buffer)
            perToken.append(buffer)
            for expert in buffer { counts[Int(expert), default: 0] += 1 }
        }
        return counts.keys.sorted().map { (UInt16($0), counts[$0]!) }
    }

    /// Prefetches the predicted experts of layer `target`; returns the cache keys it started
    /// copies for, to ``protect(_:)`` afterwards. (Static, so that the cache's eviction
    /// callback can read the planner while the prefetches run.)
    static func prefetch(_ planned: [(expert: UInt16, tokens: Int32)], layer target: Int, in sim: inout Simulation) -> [Int] {
        var started: [Int] = []
        for (expert, _) in planned where sim.prefetch(layer: target, expert: Int(expert)) {
            started.append(target * sim.cache.expertsPerLayer + Int(expert))
        }
        return started
    }

    /// Keeps `keys` from eviction until their layer runs.
    mutating func protect(_ keys: [Int]) { protection.protect(keys) }

    /// Whether `key` was prefetched for a layer that has not run yet.
    func isProtected(_ key: Int) -> Bool { protection.contains(key) }

    /// Releases the protection of `layer`'s prefetches (its experts are now locked by the engine).
    mutating func release(layer: Int) { protection.release(layer: layer) }

    /// Releases everything (a new step starts).
    mutating func releaseAll() {
        protection.releaseAll()
        perToken.removeAll(keepingCapacity: true)
        perTokenLayer = -1
    }
}
