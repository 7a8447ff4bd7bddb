import TraceStore

/// A layer-synchronous model of G GPUs serving a batch with expert parallelism (DESIGN.md
/// §3, "several GPUs with expert parallelism and an interconnect model"). Per layer of a
/// step: attention on every GPU for its share of the tokens (token t lives on GPU t mod G);
/// an all-to-all dispatch of token activations to the GPUs holding their experts; each
/// GPU computes its expert shards in one grouped launch (a roofline per shard,
/// ``GPUCompute/groupedExpertsNanoseconds(layer:shards:)``); the layer waits
/// for the busiest GPU; an all-to-all combine returns the outputs. All experts are GPU
/// resident. With replication, experts predicted to be overloaded (predictor: the same
/// layer's load in earlier steps, an exponential moving average weighting the last step
/// by `loadSmoothing`) get extra holders (``ReplicaPlanner``); a new
/// replica is copied over the target GPU's interconnect from the step's start, and a
/// layer's experts cannot start before its replicas have arrived.
///
/// Deterministic; per step O(tokens × layers × k + layers × G × E).
public struct ExpertParallelSimulation {
    /// The cost model.
    public let compute: GPUCompute
    /// GPUs and interconnect.
    public let configuration: ExpertParallelConfiguration
    private var metrics: SimulationMetrics
    private var parallel: ExpertParallelMetrics
    private var latencies = StepLatencyTracker()
    private var now: Nanoseconds = 0
    private var predictedLoad: [[Double]]
    /// Weight of the latest step in the predicted load.
    public let loadSmoothing = 0.25
    private var held: [[Set<Int>]]

    /// A model of `configuration.gpus` GPUs of `profile` serving `model`.
    public init(model: ModelCost, profile: HardwareProfile, configuration: ExpertParallelConfiguration) {
        precondition(configuration.gpus >= 1 && configuration.interconnectGBps > 0)
        compute = GPUCompute(model: model, profile: profile)
        self.configuration = configuration
        metrics = SimulationMetrics(layers: model.layers)
        parallel = ExpertParallelMetrics(gpus: configuration.gpus)
        predictedLoad = Array(repeating: Array(repeating: 0.0, count: model.experts), count: model.layers)
        held = Array(repeating: Array(repeating: [], count: model.experts), count: model.layers)
    }

    /// Runs every step of `former`; returns the engine's metrics and the per-GPU figures.
    public mutating func run<Source: RoutingSource>(_ former: inout BatchFormer<Source>) throws -> (SimulationMetrics, ExpertParallelMetrics) {
        var step = Step()
        while try former.next(into: &step) { simulate(step) }
        parallel.makespanNs = metrics.makespanNs
        return (metrics, parallel)
    }

    private mutating func simulate(_ step: Step) {
        let (gpus, model) = (configuration.gpus, compute.model)
        let start = now
        latencies.begin(step, at: start)
        var clock = now
        var linkFree = Array(repeating: start, count: gpus)
        let perGPU = { (value: Int) in (value + gpus - 1) / gpus }
        let attention = compute.attentionNanoseconds(tokens: perGPU(step.tokens), kvTokens: perGPU(step.kvTokens), scorePairs: perGPU(step.scorePairs))
        let activation = model.hiddenSize * 2
        let groupLaunches = compute.groupedLaunchNanoseconds()
        let planner = ReplicaPlanner(gpus: gpus, slots: configuration.replicaSlots, threshold: configuration.imbalanceThreshold)
        let topK = step.tokens == 0 ? 0 : step.decisions / (step.tokens * model.layers)
        for layer in 0..<model.layers {
            let extra = configuration.replicate ? planner.plan(load: predictedLoad[layer].map { Int($0.rounded()) })
                : Array(repeating: [], count: model.experts)
            var replicasReady = start
            for expert in 0..<model.experts {
                for gpu in extra[expert] where !held[layer][expert].contains(gpu) {
                    let bytes = model.expertBytes[layer]
                    linkFree[gpu] += configuration.interconnectLatencyNs + Units.transferNanoseconds(bytes: bytes, gbps: configuration.interconnectGBps)
                    replicasReady = max(replicasReady, linkFree[gpu])
                    parallel.replicasMade += 1
                    parallel.replicationBytes += bytes
                }
                held[layer][expert] = Set(extra[expert])
            }
            clock += attention
            // Route each token's experts to a holder, round-robin over the holders.
            var counter = Array(repeating: 0, count: model.experts)
            var shard = Array(repeating: 0, count: model.experts * gpus)
            var dispatch = Array(repeating: 0, count: gpus)
            var combine = Array(repeating: 0, count: gpus)
            var load = Array(repeating: 0, count: model.experts)
            for token in 0..<step.tokens {
                let origin = token % gpus
                let base = (token * model.layers + layer) * topK
                for slot in base..<base + topK where step.tokenExperts[slot] != Step.absentExpert {
                    let expert = Int(step.tokenExperts[slot])
                    let holders = extra[expert].count + 1
                    let pick = counter[expert] % holders
                    let gpu = pick == 0 ? expert % gpus : extra[expert][pick - 1]
                    counter[expert] += 1
                    load[expert] += 1
                    shard[expert * gpus + gpu] += 1
                    if gpu != origin {
                        dispatch[gpu] += activation
                        combine[origin] += activation
                    }
                }
            }
            clock += allToAll(dispatch)
            clock = max(clock, replicasReady)
            var busiest: Nanoseconds = 0
            for gpu in 0..<gpus {
                let shards = (0..<model.experts).map { shard[$0 * gpus + gpu] }.filter { $0 > 0 }
                let busy = compute.groupedExpertsNanoseconds(layer: layer, shards: shards)
                // Utilisation counts the time a kernel runs, not the launch gaps (as gpu_busy_share).
                parallel.expertBusyNs[gpu] += shards.isEmpty ? 0 : busy - groupLaunches
                busiest = max(busiest, busy)
            }
            clock += busiest
            clock += allToAll(combine)
            metrics.layers[layer].computeNs += attention + busiest
            for expert in 0..<model.experts {
                predictedLoad[layer][expert] += loadSmoothing * (Double(load[expert]) - predictedLoad[layer][expert])
            }
        }
        now = clock
        metrics.computeNs += now - start
        latencies.finish(step, start: start, end: now, into: &metrics)
    }

    /// Time of an all-to-all in which GPU g receives `inbound[g]` bytes: the busiest receiver.
    private mutating func allToAll(_ inbound: [Int]) -> Nanoseconds {
        let most = inbound.max() ?? 0
        guard most > 0 else { return 0 }
        parallel.allToAllBytes += inbound.reduce(0, +)
        return configuration.interconnectLatencyNs + Units.transferNanoseconds(bytes: most, gbps: configuration.interconnectGBps)
    }
}
