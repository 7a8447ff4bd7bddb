import OffloadSim

/// Running predicted experts in place of the router's choice, as default-vector
/// speculation (arXiv 2603.19289) and SiDA-MoE's hash table (arXiv 2605.11537's base) do.
enum PredictedExecution {
    /// Layer `layer` of the current step runs `perToken[token]` for each token instead of
    /// its routed experts; the routing fidelity counts the share of the tokens' true gate
    /// weight (1 per slot without weights) whose expert was among those run. Tokens the trace
    /// lacks this layer for run nothing. O(tokens × top-k × width).
    static func substitute(_ perToken: [[UInt16]], layer: Int, layers: Int, topK: Int, in sim: inout Simulation) {
        let step = sim.step
        var counts: [UInt16: Int32] = [:]
        var exact = 0.0
        var total = 0.0
        for token in 0..<step.tokens {
            let start = (token * layers + layer) * topK
            guard step.tokenExperts[start] != Step.absentExpert else { continue }
            let predicted = perToken[token]
            for expert in predicted { counts[expert, default: 0] += 1 }
            for slot in start..<start + topK {
                let weight = step.tokenWeights[slot].isNaN ? 1.0 : Double(step.tokenWeights[slot])
                total += weight
                if predicted.contains(step.tokenExperts[slot]) { exact += weight }
            }
        }
        guard !counts.isEmpty else { return }
        let experts = counts.keys.sorted()
        sim.substituteLayer(experts: experts, tokens: experts.map { counts[$0]! }, exactMass: exact, totalMass: total)
    }
}
