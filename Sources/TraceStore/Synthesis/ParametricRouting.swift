import Foundation

/// Synthetic routing from simple parameters, for when no reference trace is given:
/// each layer's experts are drawn without repeats from a Zipf(1) popularity over a
/// seeded permutation of the experts; then each of a token's k slots is, with
/// probability `reuse`, replaced by one of the previous token's experts at that layer.
/// Layers are independent (no cross-layer affinity). Gate weights are a flat
/// Dirichlet(1) draw over the top-k, sorted in descending order.
struct ParametricRouting: SyntheticRouting {
    let shape: ModelShape
    let seed: UInt64
    let reuse: Double
    let shapes: [SequenceShape]
    let hasWeights = true
    var origin: String {
        "parametric generator (Zipf(1) popularity per layer, reuse probability \(reuse), no cross-layer affinity, Dirichlet(1) top-k weights; no reference trace)"
    }
    /// Each layer's Zipf(1) popularity as ``CumulativeDistribution`` tables, flat so a draw
    /// reaches them by pointer: layer l's cumulative weights at l × experts, its bucket
    /// starts at l × (buckets + 1), its bucket scale at l.
    private let cumulative: [Double]
    private let bucketStart: [Int32]
    private let scale: [Double]

    init(shape: ModelShape, seed: UInt64, reuse: Double = 0.3, shapes: [SequenceShape]) {
        self.shape = shape
        self.seed = seed
        self.reuse = reuse
        self.shapes = shapes
        var random = SplitMix64(seed: seed, stream: "synth.popularity")
        let popularity = (0..<shape.layers).map { _ in
            let order = Array(0..<shape.experts).shuffled(using: &random)
            var weights = [Double](repeating: 0, count: shape.experts)
            for (rank, expert) in order.enumerated() { weights[expert] = 1 / Double(rank + 1) }
            var total = 0.0
            return CumulativeDistribution(cumulative: weights.map { total += $0; return total })
        }
        cumulative = popularity.flatMap(\.cumulative)
        bucketStart = popularity.flatMap(\.bucketStart)
        scale = popularity.map(\.scale)
    }

    func generate(tokens count: Int, _ body: (Int, Phase, [UInt16], [UInt16], [Int]) throws -> Void) rethrows {
        var ids = [UInt16](repeating: 0, count: shape.decisionsPerToken)
        var weights = ids
        try withDraws { idDraws, weightDraws in
            try forEachSequence(tokens: count) { sequence, template, length in
                for position in 0..<length {
                    ids.withUnsafeMutableBufferPointer { idDraws.pointee.draw(position: position, into: $0) }
                    weights.withUnsafeMutableBufferPointer { weightDraws.pointee.draw(into: $0) }
                    try body(sequence, position < template.prefill ? .prefill : .decode, ids, weights, [])
                }
            }
        }
    }

    /// Appends the generated tokens to `writer`, up to ``batchTokens`` of a sequence at a time:
    /// the same file as appending each token ``generate(tokens:_:)`` hands over (tested by
    /// content digest against the generator's first version). The routing and the weights
    /// come from separate streams, so a batch's ids and its weights are drawn side by side on
    /// two threads, and its tokens are checked and put in stored order (``PreparedTokens``) in
    /// pieces side by side; the writer then takes them in order.
    func write(tokens count: Int, to writer: TraceWriter) throws {
        let perToken = shape.decisionsPerToken, batch = Self.batchTokens
        let pieces = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
        let ids = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: batch * perToken)
        let weights = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: batch * perToken)
        let prepared = UnsafeMutableBufferPointer<PreparedTokens>.allocate(capacity: pieces)
        _ = prepared.initialize(from: repeatElement(PreparedTokens(shape: shape, hasWeights: true), count: pieces))
        defer {
            ids.deallocate()
            weights.deallocate()
            _ = prepared.deinitialize()
            prepared.deallocate()
        }
        try withDraws { idDraws, weightDraws in
            // Each thread writes only its own draws, batch rows and piece; the pointers outlive the loops.
            nonisolated(unsafe) let (idDraws, weightDraws) = (idDraws, weightDraws)
            nonisolated(unsafe) let (ids, weights, prepared) = (ids, weights, prepared)
            try forEachSequence(tokens: count) { sequence, template, length in
                writer.beginSequence(name: Self.sequenceName(sequence))
                for first in stride(from: 0, to: length, by: batch) {
                    let tokens = min(length - first, batch)
                    DispatchQueue.concurrentPerform(iterations: 2) { stream in
                        for t in 0..<tokens {
                            let row = UnsafeMutableBufferPointer(rebasing: (stream == 0 ? ids : weights)[t * perToken..<(t + 1) * perToken])
                            if stream == 0 { idDraws.pointee.draw(position: first + t, into: row) } else { weightDraws.pointee.draw(into: row) }
                        }
                    }
                    try DispatchQueue.concurrentPerform(iterations: pieces) { piece in
                        prepared[piece].removeAll()
                        for t in tokens * piece / pieces..<tokens * (piece + 1) / pieces {
                            let row = t * perToken..<(t + 1) * perToken
                            try prepared[piece].append(ids: Array(ids[row]), weightBits: Array(weights[row]))
                        }
                    }
                    for piece in 0..<pieces {
                        let start = first + tokens * piece / pieces, end = first + tokens * (piece + 1) / pieces
                        let prefill = min(max(template.prefill - start, 0), end - start)
                        try writer.appendTokens(phase: .prefill, prepared: prepared[piece], at: 0..<prefill)
                        try writer.appendTokens(phase: .decode, prepared: prepared[piece], at: prefill..<end - start)
                    }
                }
            }
        }
    }

    /// Calls `body` for each sequence until `count` tokens: its number, its template (drawn
    /// from `shapes` by the sequence stream) and how many tokens it has (the last one is cut
    /// at `count`).
    private func forEachSequence(tokens count: Int, _ body: (_ sequence: Int, _ template: SequenceShape, _ length: Int) throws -> Void) rethrows {
        var sequencing = SplitMix64(seed: seed, stream: "synth.sequences")
        var produced = 0, sequence = 0
        while produced < count {
            let template = shapes[sequencing.int(below: shapes.count)]
            let length = min(max(1, template.tokens), count - produced)
            try body(sequence, template, length)
            produced += length
            sequence += 1
        }
    }

    /// Tokens prepared between appends: 4,096 Qwen3-30B-A3B tokens hold 6 MiB.
    static let batchTokens = 4096

    /// Runs `body` with the generator's two streams' states over this routing's tables
    /// (reached by pointer, valid only inside).
    private func withDraws<Result>(_ body: (UnsafeMutablePointer<IDDraws>, UnsafeMutablePointer<WeightDraws>) throws -> Result) rethrows -> Result {
        try cumulative.withUnsafeBufferPointer { cumulative in
            try bucketStart.withUnsafeBufferPointer { bucketStart in
                try scale.withUnsafeBufferPointer { scale in
                    var idDraws = IDDraws(routing: self, cumulative: cumulative, bucketStart: bucketStart, scale: scale)
                    var weightDraws = WeightDraws(routing: self)
                    defer {
                        idDraws.deallocate()
                        weightDraws.deallocate()
                    }
                    return try withUnsafeMutablePointer(to: &idDraws) { idDraws in
                        try withUnsafeMutablePointer(to: &weightDraws) { weightDraws in try body(idDraws, weightDraws) }
                    }
                }
            }
        }
    }
}

extension ParametricRouting {
    /// The routing stream's state from token to token: the stream, the previous token's ids
    /// and which experts the layer being drawn already holds. The buffers are raw (a local
    /// array paid a uniqueness check per element write); ``deallocate()`` frees them.
    struct IDDraws {
        let shape: ModelShape
        let reuse: Double
        let cumulative: UnsafeBufferPointer<Double>
        let bucketStart: UnsafeBufferPointer<Int32>
        let scale: UnsafeBufferPointer<Double>
        var routing: SplitMix64
        let previous: UnsafeMutableBufferPointer<UInt16>
        let chosen: UnsafeMutableBufferPointer<Bool>

        init(routing generator: ParametricRouting, cumulative: UnsafeBufferPointer<Double>, bucketStart: UnsafeBufferPointer<Int32>,
             scale: UnsafeBufferPointer<Double>) {
            (shape, reuse) = (generator.shape, generator.reuse)
            (self.cumulative, self.bucketStart, self.scale) = (cumulative, bucketStart, scale)
            routing = SplitMix64(seed: generator.seed, stream: "synth.routing")
            previous = .allocate(capacity: shape.decisionsPerToken)
            previous.initialize(repeating: 0)
            chosen = .allocate(capacity: shape.experts)
            chosen.initialize(repeating: false)
        }

        func deallocate() {
            previous.deallocate()
            chosen.deallocate()
        }

        /// The next token's ids, at `position` in its sequence, layer by layer in draw order:
        /// each layer's k distinct experts, a Zipf draw per slot, which with probability
        /// `reuse` (from the second token of a sequence on) gives way to one of the previous
        /// token's experts at the layer, redrawn while the layer already holds it.
        mutating func draw(position: Int, into ids: UnsafeMutableBufferPointer<UInt16>) {
            let (k, experts, buckets) = (shape.topK, shape.experts, bucketStart.count / shape.layers)
            for l in 0..<shape.layers {
                let base = l * k
                let table = UnsafeBufferPointer(rebasing: cumulative[l * experts..<(l + 1) * experts])
                let starts = UnsafeBufferPointer(rebasing: bucketStart[l * buckets..<(l + 1) * buckets])
                let scale = self.scale[l]
                for r in 0..<k {
                    var pick = CumulativeDistribution.index(uniform: routing.uniform(), cumulative: table, bucketStart: starts, scale: scale)
                    if position > 0, routing.uniform() < reuse {
                        let candidate = Int(previous[base + routing.int(below: k)])
                        if !chosen[candidate] { pick = candidate }
                    }
                    while chosen[pick] {
                        pick = CumulativeDistribution.index(uniform: routing.uniform(), cumulative: table, bucketStart: starts, scale: scale)
                    }
                    chosen[pick] = true
                    ids[base + r] = UInt16(pick)
                }
                for r in 0..<k { chosen[Int(ids[base + r])] = false }
            }
            _ = previous.update(fromContentsOf: ids)
        }
    }

    /// The weight stream's state from token to token; ``deallocate()`` frees its scratch.
    struct WeightDraws {
        let shape: ModelShape
        var weighting: SplitMix64
        let draws: UnsafeMutableBufferPointer<Float>

        init(routing generator: ParametricRouting) {
            shape = generator.shape
            weighting = SplitMix64(seed: generator.seed, stream: "synth.weights")
            draws = .allocate(capacity: shape.topK)
            draws.initialize(repeating: 0)
        }

        func deallocate() { draws.deallocate() }

        /// The next token's gate weights, layer by layer: a flat Dirichlet(1) draw (k
        /// exponentials over their sum, summed in draw order), sorted in descending order,
        /// as fp16 bits.
        mutating func draw(into weightBits: UnsafeMutableBufferPointer<UInt16>) {
            let k = shape.topK
            for l in 0..<shape.layers {
                var total: Float = 0
                for r in 0..<k {
                    let draw = Float(-log(1 - weighting.uniform()))
                    total += draw
                    // Insertion into the descending run before it: equal values are equal bits
                    // (every zero draw is -0.0), so the order among them does not matter.
                    var i = r
                    while i > 0 && draws[i - 1] < draw {
                        draws[i] = draws[i - 1]
                        i -= 1
                    }
                    draws[i] = draw
                }
                for r in 0..<k { weightBits[l * k + r] = HalfPrecision.bits(rounding: draws[r] / total) }
            }
        }
    }
}
