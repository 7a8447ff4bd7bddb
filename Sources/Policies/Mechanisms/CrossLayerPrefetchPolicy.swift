import OffloadSim

/// Prefetching from a predictor (Fate's cross-layer gate, arXiv 2502.12224; also the
/// speculative loading of mixtral-offloading, Eliseev & Mazur, arXiv 2312.17238, and
/// ProMoE's chunked prefetch, arXiv 2410.22134): after layer l's router, the experts
/// predicted for layer l + d (k × widen per token) are prefetched at prefetch priority
/// and kept from eviction until layer l + d runs; whatever was mispredicted is fetched
/// exactly on demand. Needs an expert cache (or prefetch buffer) to land in.
public final class CrossLayerPrefetchPolicy: OffloadPolicy {
    public let name: String
    public var predictorName: String { planner.predictor.name }
    public let expertOrder: ExpertOrder
    private var planner: PredictionPlanner

    /// A policy called `name` prefetching `width` experts per token `lookahead` layers ahead.
    public init(name: String, predictor: ExpertPredictor, lookahead: Int, width: Int, layers: Int, experts: Int,
                order: ExpertOrder = .ascendingID) {
        self.name = name
        expertOrder = order
        planner = PredictionPlanner(predictor: predictor, lookahead: lookahead, width: width, layers: layers, experts: experts)
    }

    public func stepStarted(in sim: inout Simulation) { planner.releaseAll() }

    public func planLayer(_ layer: Int, in sim: inout Simulation) { planner.release(layer: layer) }

    public func routed(layer: Int, in sim: inout Simulation) {
        let target = layer + planner.lookahead
        guard target < sim.step.layerStart.count - 1 else { return }
        let planned = planner.predict(sim.step, from: layer)
        let started = PredictionPlanner.prefetch(planned, layer: target, in: &sim)
        planner.protect(started)
    }

    public func stepFinished(in sim: inout Simulation) { planner.predictor.observe(sim.step) }

    public func mayEvict(_ key: Int) -> Bool { !planner.isProtected(key) }
}
