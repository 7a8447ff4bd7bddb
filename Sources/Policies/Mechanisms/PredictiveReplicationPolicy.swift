import OffloadSim

/// Predictive prefetching and expert replication on one GPU (Jyothish, Jannesari, Sarkar and
/// Zuber, "Fast MoE Inference via Predictive Prefetching and Expert Replication", arXiv
/// 2605.11537), built on SiDA-MoE's data-aware offloading as its artifact builds on it
/// (github.com/vvkkvv23812025/moe-mpmc: `src/utils/manager.py` `SODAManager`,
/// `src/model/soda_moe.py` `SwitchTransformersSparseMLPOffloading`).
///
/// Before each batch a predictor names, for every token and MoE layer, the experts the batch
/// will use (SiDA's hash table, built ahead by a thread from the batch's embeddings: the
/// artifact's `gen_hash`). Those experts are loaded (`move_experts`: the predicted ones not on
/// the GPU are copied, here in layer order at prefetch priority) and each layer then EXECUTES
/// the predicted experts instead of the router's choice (`SwitchTransformersSparseMLPOffloading.forward`
/// reads the expert ids from the hash table), so a misprediction costs routing fidelity, not a
/// fetch. Experts predicted to be overloaded get replicas: while an expert's predicted tokens
/// per copy exceed `1 + threshold` times its layer's mean over active experts, it gains one
/// more copy, at most `maxCopies` in all, and all replicas together within `memoryCapBytes`;
/// the greedy order is the largest load per copy relative to its layer's mean first. Replicas
/// are copied over the bus from host memory and kept while the cap has room (a later batch
/// may want them again); unwanted ones give way when new ones need the memory.
/// Under a concurrent-streams engine an expert's tokens are split evenly among its ready
/// copies, each a kernel on its own stream (``Simulation/copyReplica(key:)``).
///
/// The replication rule, its threshold and cap are this model's reading of the paper's
/// abstract ("predicts which experts are likely to be overloaded and replicates them for
/// upcoming batches"); the paper's replication code is not in its public artifact. Per batch:
/// O(tokens × layers × width) to predict, O(replicas × hot experts) to plan.
public final class PredictiveReplicationPolicy: OffloadPolicy {
    public let name: String
    public var predictorName: String { predictor.name }
    /// Whether replicas are planned at all (only engines with concurrent streams can use them).
    public let replicates: Bool
    /// Memory for all replicas together, bytes.
    public let memoryCapBytes: Int
    /// An expert is replicated while its predicted tokens per copy exceed (1 + threshold) × the layer's mean.
    public let threshold: Double
    /// Most copies of one expert, the original included.
    public let maxCopies: Int
    /// Whether every expert is on the GPU before the first batch, as the artifact moves the
    /// experts its hash table names before it starts timing (`src/latency.py`, baseline 0).
    public let preloadsAllExperts: Bool
    /// Replica copies issued over the run.
    public private(set) var replicaCopies = 0
    /// Batches planned.
    public private(set) var batches = 0

    private let predictor: ExpertPredictor
    private let layers: Int
    private let experts: Int
    private let topK: Int
    private let width: Int
    /// Per layer and token, the predicted experts: `predicted[layer][token]`.
    private var predicted: [[[UInt16]]]
    private var protection: PrefetchProtection
    /// Replicas held per key (copied or on their way) and those whose copy finished.
    private var held: [Int]
    private var ready: [Int]
    private var buffer: [UInt16] = []

    /// A policy predicting `width` experts per token and layer with `predictor`.
    public init(name: String, predictor: ExpertPredictor, width: Int, layers: Int, experts: Int, topK: Int,
                replicates: Bool, memoryCapBytes: Int, threshold: Double, maxCopies: Int, preload: Bool = false) {
        self.name = name
        self.predictor = predictor
        self.width = width
        self.layers = layers
        self.experts = experts
        self.topK = topK
        self.replicates = replicates
        self.memoryCapBytes = memoryCapBytes
        self.threshold = threshold
        self.maxCopies = max(1, maxCopies)
        preloadsAllExperts = preload
        predicted = Array(repeating: [], count: layers)
        protection = PrefetchProtection(layers: layers, experts: experts)
        held = Array(repeating: 0, count: layers * experts)
        ready = held
    }

    public func stepStarted(in sim: inout Simulation) {
        batches += 1
        protection.releaseAll()
        let step = sim.step
        var loads: [[Int32]] = []
        for layer in 0..<layers {
            var counts = Array(repeating: Int32(0), count: experts)
            predicted[layer].removeAll(keepingCapacity: true)
            for token in 0..<step.tokens {
                buffer.removeAll(keepingCapacity: true)
                // Nothing of the batch is known yet: the prediction is made from "layer 0, `layer` ahead".
                predictor.predict(step, token: token, layer: 0, lookahead: layer, width: width, into: &buffer)
                predicted[layer].append(buffer)
                for expert in buffer { counts[Int(expert)] += 1 }
            }
            loads.append(counts)
            var started: [Int] = []
            for expert in 0..<experts where counts[expert] > 0 {
                let key = layer * experts + expert
                if sim.prefetch(layer: layer, expert: expert) || sim.cache.residency(of: key) != .absent { started.append(key) }
            }
            protection.protect(started)
        }
        if replicates { replan(loads, in: &sim) }
    }

    /// Chooses this batch's replicas from the predicted `loads` and copies the new ones.
    private func replan(_ loads: [[Int32]], in sim: inout Simulation) {
        var wanted = Array(repeating: 0, count: layers * experts)
        var budget = memoryCapBytes
        // Candidates: experts above their layer's bar, with their load relative to the layer mean.
        var candidates: [(key: Int, relative: Double)] = []
        for layer in 0..<layers {
            let active = loads[layer].reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
            guard active > 0 else { continue }
            let mean = Double(loads[layer].reduce(0) { $0 + Int($1) }) / Double(active)
            for expert in 0..<experts where Double(loads[layer][expert]) > (1 + threshold) * mean {
                candidates.append((layer * experts + expert, Double(loads[layer][expert]) / mean))
            }
        }
        while true {
            var best = -1
            var bestShare = 1 + threshold
            for (index, candidate) in candidates.enumerated() {
                let copies = 1 + wanted[candidate.key]
                let share = candidate.relative / Double(copies)
                guard copies < maxCopies, share > bestShare, sim.cache.bytes(ofKey: candidate.key) <= budget else { continue }
                best = index
                bestShare = share
            }
            guard best >= 0 else { break }
            let key = candidates[best].key
            wanted[key] += 1
            budget -= sim.cache.bytes(ofKey: key)
        }
        // Replicas stay while memory allows (a later batch may want them again); those this
        // batch does not want give way, first come first, when new ones need the room.
        var free = memoryCapBytes
        var needed = 0
        for key in 0..<wanted.count {
            free -= held[key] * sim.cache.bytes(ofKey: key)
            needed += max(0, wanted[key] - held[key]) * sim.cache.bytes(ofKey: key)
        }
        for key in 0..<wanted.count where free < needed && held[key] > wanted[key] {
            free += (held[key] - wanted[key]) * sim.cache.bytes(ofKey: key)
            held[key] = wanted[key]
            ready[key] = min(ready[key], held[key])
        }
        for key in 0..<wanted.count where wanted[key] > held[key] {
            for _ in held[key]..<wanted[key] { sim.copyReplica(key: key) }
            replicaCopies += wanted[key] - held[key]
            held[key] = wanted[key]
        }
    }

    public func copyFinished(_ copy: CopyCompletion, key: Int?, in sim: inout Simulation) {
        guard let replica = Simulation.replicaKey(ofTag: copy.tag), ready[replica] < held[replica] else { return }
        ready[replica] += 1
    }

    public func readyReplicas(ofKey key: Int) -> Int { ready[key] }

    /// Executes the predicted experts (SiDA's hash table) in place of the router's choice.
    public func planLayer(_ layer: Int, in sim: inout Simulation) {
        protection.release(layer: layer)
        guard predicted[layer].count == sim.step.tokens else { return }
        PredictedExecution.substitute(predicted[layer], layer: layer, layers: layers, topK: topK, in: &sim)
    }

    public func stepFinished(in sim: inout Simulation) { predictor.observe(sim.step) }

    public func mayEvict(_ key: Int) -> Bool { !protection.contains(key) }
}
