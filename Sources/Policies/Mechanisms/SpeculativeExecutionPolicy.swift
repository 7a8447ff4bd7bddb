import OffloadSim

/// Default-vector speculation (arXiv 2603.19289): after layer l's router the experts
/// predicted for layer l + 1 are prefetched, and layer l + 1 then EXECUTES the predicted
/// experts instead of the router's choice, so nothing is re-fetched. Layers listed in
/// `exactLayers` (and layer 0, which has nothing before it) keep exact routing, for the
/// early layers where representations drift. Routing fidelity — the share of the true
/// gate weight computed with the true experts, per token — measures the cost.
public final class SpeculativeExecutionPolicy: OffloadPolicy {
    public let name: String
    public var predictorName: String { planner.predictor.name }
    /// Layers that keep exact routing.
    public let exactLayers: Set<Int>
    private var planner: PredictionPlanner
    private let layers: Int
    private let topK: Int

    /// A policy executing `width` predicted experts per token one layer ahead.
    public init(name: String, predictor: ExpertPredictor, width: Int, exactLayers: Set<Int>, layers: Int, experts: Int, topK: Int) {
        self.name = name
        self.exactLayers = exactLayers
        self.layers = layers
        self.topK = topK
        planner = PredictionPlanner(predictor: predictor, lookahead: 1, width: width, layers: layers, experts: experts)
    }

    public func stepStarted(in sim: inout Simulation) { planner.releaseAll() }

    public func routed(layer: Int, in sim: inout Simulation) {
        let target = layer + 1
        guard target < layers, !exactLayers.contains(target) else { return }
        let planned = planner.predict(sim.step, from: layer)
        let started = PredictionPlanner.prefetch(planned, layer: target, in: &sim)
        planner.protect(started)
    }

    public func planLayer(_ layer: Int, in sim: inout Simulation) {
        planner.release(layer: layer)
        guard planner.perTokenLayer == layer, !exactLayers.contains(layer) else { return }
        PredictedExecution.substitute(planner.perToken, layer: layer, layers: layers, topK: topK, in: &sim)
    }

    public func stepFinished(in sim: inout Simulation) { planner.predictor.observe(sim.step) }

    public func mayEvict(_ key: Int) -> Bool { !planner.isProtected(key) }
}
