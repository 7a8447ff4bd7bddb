import OffloadSim

/// Request-level matching in the manner of MoE-Infinity (Xue et al., arXiv 2401.14361):
/// each training sequence leaves an expert activation matrix (tokens routed to each
/// expert of each layer); a running sequence's matrix so far is matched by cosine
/// similarity against the stored ones, and the best match's most used experts at the
/// target layer are predicted. The running matrix holds the sequence's earlier steps and,
/// of the current step, all its tokens' routing up to the layer the prediction is made
/// at (a prefill routes every prompt token at a layer before the next layer starts).
/// Before a sequence has routed anything, the per-layer popularity list stands in.
///
/// At most `capacity` training matrices are kept (the first in trace order). Matching is
/// incremental: each routed decision adds one column of dot products, O(capacity).
public final class ActivationMatrixPredictor: ExpertPredictor {
    /// "activation-matrix".
    public let name = "activation-matrix"
    public var isLearned: Bool { true }
    /// Training matrices kept.
    public let capacity: Int
    private let shape: PredictorShape
    private let popularity: PopularityPredictor
    private var training: [Int: [Float]] = [:]
    private var order: [Int] = []
    // Stored matrices, transposed: entry (layer × experts + expert) × count + matrix.
    private var stored: [Float] = []
    private var storedNorms: [Float] = []
    private var count = 0
    private var running: [Int: [Float]] = [:]
    // Within the current step: per sequence, dot products of its tokens' routing summed over layers 0…l, by l.
    private var stepIndex = -1
    private var stepDots: [Int: [[Float]]] = [:]

    /// An untrained predictor keeping up to `capacity` training matrices.
    public init(shape: PredictorShape, capacity: Int = 128) {
        self.shape = shape
        self.capacity = capacity
        popularity = PopularityPredictor(shape: shape)
    }

    public func learn(_ step: Step) {
        popularity.learn(step)
        let size = shape.layers * shape.experts
        for token in 0..<step.tokens {
            let sequence = step.tokenSequences[token]
            if training[sequence] == nil {
                guard order.count < capacity else { continue }
                training[sequence] = Array(repeating: 0, count: size)
                order.append(sequence)
            }
            for layer in 0..<shape.layers {
                for expert in shape.truth(step, token: token, layer: layer) {
                    training[sequence]![layer * shape.experts + Int(expert)] += 1
                }
            }
        }
        count = 0
    }

    private func finalise() {
        guard count != order.count else { return }
        count = order.count
        let size = shape.layers * shape.experts
        stored = Array(repeating: 0, count: size * count)
        storedNorms = []
        for (index, sequence) in order.enumerated() {
            let matrix = training[sequence]!
            var norm: Float = 0
            for entry in 0..<size {
                stored[entry * count + index] = matrix[entry]
                norm += matrix[entry] * matrix[entry]
            }
            storedNorms.append(norm.squareRoot())
        }
    }

    public func observe(_ step: Step) {
        finalise()
        for token in 0..<step.tokens {
            let sequence = step.tokenSequences[token]
            var dots = running[sequence] ?? Array(repeating: 0, count: count)
            for layer in 0..<shape.layers {
                for expert in shape.truth(step, token: token, layer: layer) {
                    let base = (layer * shape.experts + Int(expert)) * count
                    for matrix in 0..<count { dots[matrix] += stored[base + matrix] }
                }
            }
            running[sequence] = dots
        }
        for sequence in step.finished { running[sequence] = nil }
    }

    public func predict(_ step: Step, token: Int, layer: Int, lookahead: Int, width: Int, into predicted: inout [UInt16]) {
        finalise()
        guard count > 0 else {
            return popularity.predict(step, token: token, layer: layer, lookahead: lookahead, width: width, into: &predicted)
        }
        let sequence = step.tokenSequences[token]
        let current = dotsWithinStep(step, sequence: sequence, through: layer)
        let earlier = running[sequence]
        var best = -1
        var bestScore: Float = 0
        for matrix in 0..<count where storedNorms[matrix] > 0 {
            let score = (current[matrix] + (earlier?[matrix] ?? 0)) / storedNorms[matrix]
            if score > bestScore { (best, bestScore) = (matrix, score) }
        }
        guard best >= 0 else {
            return popularity.predict(step, token: token, layer: layer, lookahead: lookahead, width: width, into: &predicted)
        }
        let base = (layer + lookahead) * shape.experts
        let ranked = (0..<shape.experts).sorted { a, b in
            let (x, y) = (stored[(base + a) * count + best], stored[(base + b) * count + best])
            return x != y ? x > y : a < b
        }
        predicted.append(contentsOf: ranked.prefix(width).map { UInt16($0) })
    }

    /// Dot products against every stored matrix of `sequence`'s tokens in `step`, layers 0…`layer`.
    private func dotsWithinStep(_ step: Step, sequence: Int, through layer: Int) -> [Float] {
        if step.index != stepIndex {
            stepIndex = step.index
            stepDots.removeAll(keepingCapacity: true)
        }
        var cumulative = stepDots[sequence] ?? []
        while cumulative.count <= layer {
            var dots = cumulative.last ?? Array(repeating: 0, count: count)
            let next = cumulative.count
            for token in 0..<step.tokens where step.tokenSequences[token] == sequence {
                for expert in shape.truth(step, token: token, layer: next) {
                    let base = (next * shape.experts + Int(expert)) * count
                    for matrix in 0..<count { dots[matrix] += stored[base + matrix] }
                }
            }
            cumulative.append(dots)
        }
        stepDots[sequence] = cumulative
        return cumulative[layer]
    }
}
