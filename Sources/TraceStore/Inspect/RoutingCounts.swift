/// Counts gathered in one pass over a trace's routing, from which ``TraceStatistics``
/// and the synthesiser's fitted profile are derived.
///
/// Tokens arrive one at a time as layers × top-k ids (layer-major, as
/// ``TraceWriter/appendToken(phase:ids:weights:predictions:)`` takes them), in trace
/// order; consecutive tokens of the same sequence are neighbours for reuse.
/// Memory: O(layers × experts²) for the co-activation counts.
struct RoutingCounts {
    let layers: Int
    let experts: Int
    let topK: Int
    /// Activations per layer and expert: `activations[l × experts + e]`.
    var activations: [Int]
    /// Co-activation of expert e at layer l with e' at layer l + 1:
    /// `coactivation[(l × experts + e) × experts + e']`, for l < layers − 1.
    var coactivation: [Int]
    /// Per layer: routed experts of a token that its predecessor in the sequence also used at that layer.
    var reuseHits: [Int]
    /// Token pairs (a token and its predecessor in the same sequence).
    /// Per layer, consecutive tokens of one sequence that both have the layer (reuse's denominator).
    var reusePairs: [Int]
    private var lastPresent: [Int]
    var tokens = 0
    var decodeTokens = 0
    /// (prefill, decode) tokens of each sequence, in order.
    var sequenceShapes: [(prefill: Int, decode: Int)] = []
    /// Histograms of rank-ordered gate weights: 256 bins over [0, 1] per rank.
    var weightHistogram: [Int]
    var weightedTokens = 0
    /// Distinct (layer, expert) pairs summed over windows of `windowSizes` tokens, and window counts.
    var windowDistinct: [Int]
    var windowCount: [Int]
    static let windowSizes = [1, 8, 64]
    static let weightBins = 256
    /// The most co-activation counts kept (see ``coactivation``).
    static let largestCoactivation = 1 << 24
    /// Whether co-activation was counted (so cross-layer affinity can be measured).
    var tracksCoactivation: Bool { !coactivation.isEmpty || layers < 2 }

    private var lastUse: [Int]
    private var currentSequence = -1
    private var positionInSequence = 0
    private var windowSets: [[Bool]]
    private var windowFill: [Int]
    private var scratchWeights: [Float]

    init(layers: Int, experts: Int, topK: Int) {
        self.layers = layers
        self.experts = experts
        self.topK = topK
        activations = Array(repeating: 0, count: layers * experts)
        // Dense co-activation is layers × experts² counts: kept up to 2^24 of them (every real
        // model: DeepSeek-V3's 58 MoE layers × 256 experts need about 3.8 M), else left empty
        // and the affinity not measured.
        let pairs = max(0, layers - 1) * experts * experts
        coactivation = Array(repeating: 0, count: pairs <= Self.largestCoactivation ? pairs : 0)
        reuseHits = Array(repeating: 0, count: layers)
        weightHistogram = Array(repeating: 0, count: topK * Self.weightBins)
        windowDistinct = Array(repeating: 0, count: Self.windowSizes.count)
        windowCount = Array(repeating: 0, count: Self.windowSizes.count)
        lastUse = Array(repeating: -2, count: layers * experts)
        windowSets = Self.windowSizes.map { _ in Array(repeating: false, count: layers * experts) }
        windowFill = Array(repeating: 0, count: Self.windowSizes.count)
        scratchWeights = Array(repeating: 0, count: topK)
        reusePairs = Array(repeating: 0, count: layers)
        lastPresent = Array(repeating: -2, count: layers)
    }

    /// Adds one token. `ids` and `weightBits` (fp16 bit patterns) are layers × top-k,
    /// layer-major; weights may be empty; layers marked in `absent` (empty: none) are skipped.
    mutating func add(sequence: Int, phase: Phase, ids: UnsafeBufferPointer<UInt16>, weightBits: UnsafeBufferPointer<UInt16>,
                      absent: UnsafeBufferPointer<Bool>) {
        if sequence != currentSequence {
            closeWindows()
            currentSequence = sequence
            positionInSequence = 0
            sequenceShapes.append((0, 0))
        }
        if phase == .prefill { sequenceShapes[sequenceShapes.count - 1].prefill += 1 } else { sequenceShapes[sequenceShapes.count - 1].decode += 1 }
        let stamp = tokens
        for layer in 0..<layers where absent.isEmpty || !absent[layer] {
            if positionInSequence > 0 && lastPresent[layer] == stamp - 1 { reusePairs[layer] += 1 }
            lastPresent[layer] = stamp
            let base = layer * topK
            for r in 0..<topK {
                let e = Int(ids[base + r])
                let slot = layer * experts + e
                activations[slot] += 1
                if lastUse[slot] == stamp - 1, positionInSequence > 0 { reuseHits[layer] += 1 }
                lastUse[slot] = stamp
                for w in windowSets.indices where !windowSets[w][slot] {
                    windowSets[w][slot] = true
                    windowDistinct[w] += 1
                }
                if layer + 1 < layers && !coactivation.isEmpty && (absent.isEmpty || !absent[layer + 1]) {
                    let row = (layer * experts + e) * experts
                    let next = (layer + 1) * topK
                    for q in 0..<topK { coactivation[row + Int(ids[next + q])] += 1 }
                }
            }
            if !weightBits.isEmpty {
                for r in 0..<topK { scratchWeights[r] = Float(Float16(bitPattern: weightBits[base + r])) }
                scratchWeights.sort(by: >)
                for r in 0..<topK {
                    let bin = min(Self.weightBins - 1, max(0, Int(scratchWeights[r] * Float(Self.weightBins))))
                    weightHistogram[r * Self.weightBins + bin] += 1
                }
            }
        }
        if !weightBits.isEmpty { weightedTokens += 1 }
        tokens += 1
        if phase == .decode { decodeTokens += 1 }
        positionInSequence += 1
        for w in windowSets.indices {
            windowFill[w] += 1
            if windowFill[w] == Self.windowSizes[w] { closeWindow(w) }
        }
    }

    /// Counts windows still open at the end of a sequence or of the trace.
    mutating func closeWindows() {
        for w in windowSets.indices where windowFill[w] > 0 { closeWindow(w) }
    }

    private mutating func closeWindow(_ w: Int) {
        windowCount[w] += 1
        windowFill[w] = 0
        for i in windowSets[w].indices { windowSets[w][i] = false }
    }

    /// Share of layer `layer`'s activations that go to expert `e`.
    func popularity(layer: Int) -> [Double] {
        let row = activations[layer * experts..<(layer + 1) * experts]
        let total = Double(max(1, row.reduce(0, +)))
        return row.map { Double($0) / total }
    }
}

extension RoutingCounts {
    /// Feeds every token of `trace` to a new ``RoutingCounts``; also calls `visit` for each token.
    static func gather(_ trace: TraceReader, visit: ((Int, UnsafeBufferPointer<UInt16>) -> Void)? = nil) throws -> RoutingCounts {
        let shape = trace.metadata.shape
        var counts = RoutingCounts(layers: shape.layers, experts: shape.experts, topK: shape.topK)
        try TokenWalk.forEach(trace) { sequence, phase, ids, weightBits, absent in
            counts.add(sequence: sequence, phase: phase, ids: ids, weightBits: weightBits, absent: absent)
            visit?(sequence, ids)
        }
        counts.closeWindows()
        return counts
    }
}

/// Visits a trace token by token in trace order, each as layers × top-k ids (layer-major),
/// gate weights as the fp16 bit patterns the format stores (empty when the trace has none)
/// and, per layer, whether the token lacks it (its ids are then placeholders to skip),
/// reusing one buffer. The buffers are filled through pointers: element writes into local
/// arrays paid a uniqueness check each. O(decisions).
enum TokenWalk {
    static func forEach(
        _ trace: TraceReader,
        _ body: (_ sequence: Int, _ phase: Phase, _ ids: UnsafeBufferPointer<UInt16>, _ weightBits: UnsafeBufferPointer<UInt16>,
                 _ absent: UnsafeBufferPointer<Bool>) throws -> Void
    ) throws {
        let shape = trace.metadata.shape
        let (layers, k) = (shape.layers, shape.topK)
        let perToken = layers * k
        let ids = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: perToken)
        let weights = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: trace.metadata.hasWeights ? perToken : 0)
        let absent = UnsafeMutableBufferPointer<Bool>.allocate(capacity: layers)
        defer {
            ids.deallocate()
            weights.deallocate()
            absent.deallocate()
        }
        let cursor = try trace.chunks()
        var chunk = cursor.makeChunk()
        while try cursor.next(into: &chunk) {
            var token = 0
            for run in chunk.runs {
                for _ in 0..<run.tokens {
                    chunk.ids.withUnsafeBufferPointer { chunkIDs in
                        chunk.weightBits.withUnsafeBufferPointer { chunkWeights in
                            for layer in 0..<layers {
                                absent[layer] = chunk.isAbsent(token: token, layer: layer)
                                let from = chunk.offset(token: token, layer: layer)
                                for r in 0..<k { ids[layer * k + r] = chunkIDs[from + r] }
                                if chunk.hasWeights {
                                    for r in 0..<k { weights[layer * k + r] = chunkWeights[from + r] }
                                }
                            }
                        }
                    }
                    try body(run.sequence, chunk.phase(token: token), UnsafeBufferPointer(ids), UnsafeBufferPointer(weights),
                             UnsafeBufferPointer(absent))
                    token += 1
                }
            }
        }
    }
}
