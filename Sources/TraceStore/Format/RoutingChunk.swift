/// Consecutive tokens of one sequence inside a chunk.
public struct SequenceRun: Equatable, Sendable {
    /// Sequence id (row of the `sequences` table, 0-based).
    public var sequence: Int
    /// Index, within its sequence, of the run's first token.
    public var firstToken: Int
    /// Tokens in the run.
    public var tokens: Int

    /// Creates a run.
    public init(sequence: Int, firstToken: Int, tokens: Int) {
        self.sequence = sequence
        self.firstToken = firstToken
        self.tokens = tokens
    }
}

/// The decoded routing of one chunk: up to `chunkTokens` consecutive tokens in trace
/// order, held column by column as stored (traces/FORMAT.md, "routing payload").
///
/// Ids are layer-major: the k ids of token t at layer l are at
/// `((l × tokenCount) + t) × topK ..< + topK`. Where the trace has weights the k ids are
/// in ascending id order with their fp16 weights beside them (rank = descending weight);
/// without weights they are in the source's rank order. Buffers are reused from chunk to
/// chunk, so reading a trace allocates once.
public struct RoutingChunk: Sendable {
    /// The chunk's index in the trace (0-based).
    public internal(set) var index: Int = 0
    /// MoE layers per token.
    public let layers: Int
    /// Experts per token per layer.
    public let topK: Int
    /// Tokens in this chunk.
    public internal(set) var tokenCount: Int = 0
    /// The sequences the tokens belong to, in order; their `tokens` add up to `tokenCount`.
    public internal(set) var runs: [SequenceRun] = []
    /// Phase of each token (`Phase.rawValue`).
    public internal(set) var phases: [UInt8] = []
    /// Expert ids, layer-major (see the type's documentation).
    public internal(set) var ids: [UInt16] = []
    /// fp16 bit patterns of the gate weights, indexed as `ids`; empty when the trace has none.
    public internal(set) var weightBits: [UInt16] = []
    /// Whether each token-layer's ids are in ascending order (true where weights are stored).
    public internal(set) var idsAscending: Bool = false
    /// Per token-layer, layer-major (`layer × tokenCount + token`), whether the source lacked
    /// that layer's routing for the token (format version 2); empty when none is absent. An
    /// absent token-layer's ids are placeholders (0, 1, …, k − 1) and must be skipped.
    public internal(set) var absent: [Bool] = []

    /// An empty chunk for a trace of `layers` × `topK`.
    public init(layers: Int, topK: Int) {
        self.layers = layers
        self.topK = topK
    }

    /// Whether gate weights are present.
    public var hasWeights: Bool { !weightBits.isEmpty }

    /// Whether some token of the chunk lacks some layer.
    public var hasAbsent: Bool { !absent.isEmpty }

    /// Whether `token` lacks `layer`'s routing.
    @inlinable public func isAbsent(token: Int, layer: Int) -> Bool { !absent.isEmpty && absent[layer * tokenCount + token] }

    /// Offset of token `token`'s first id at `layer` in ``ids`` and ``weightBits``.
    @inlinable public func offset(token: Int, layer: Int) -> Int { (layer * tokenCount + token) * topK }

    /// The k expert ids of `token` at `layer`.
    public func expertIDs(token: Int, layer: Int) -> ArraySlice<UInt16> {
        let start = offset(token: token, layer: layer)
        return ids[start..<start + topK]
    }

    /// Gate weight of the `rank`-th stored id of `token` at `layer` (NaN when no weights).
    public func weight(token: Int, layer: Int, slot: Int) -> Float {
        guard hasWeights else { return .nan }
        return Float(Float16(bitPattern: weightBits[offset(token: token, layer: layer) + slot]))
    }

    /// Phase of `token`.
    public func phase(token: Int) -> Phase { Phase(rawValue: phases[token]) ?? .prefill }

    /// The stored slots of `token` at `layer` in rank order: by descending weight, ties by
    /// ascending id (the canonical top-k order); the stored order where there are no weights.
    public func rankOrder(token: Int, layer: Int) -> [Int] {
        let start = offset(token: token, layer: layer)
        var slots = Array(0..<topK)
        guard hasWeights else { return slots }
        slots.sort { a, b in
            let wa = Float(Float16(bitPattern: weightBits[start + a]))
            let wb = Float(Float16(bitPattern: weightBits[start + b]))
            return wa != wb ? wa > wb : ids[start + a] < ids[start + b]
        }
        return slots
    }

    mutating func reset(index: Int, tokenCount: Int, withWeights: Bool) {
        self.index = index
        self.tokenCount = tokenCount
        runs.removeAll(keepingCapacity: true)
        phases.removeAll(keepingCapacity: true)
        let count = layers * tokenCount * topK
        ids.removeAll(keepingCapacity: true)
        ids.append(contentsOf: repeatElement(0, count: count))
        weightBits.removeAll(keepingCapacity: true)
        if withWeights { weightBits.append(contentsOf: repeatElement(0, count: count)) }
        absent.removeAll(keepingCapacity: true)
    }
}
