/// Tokens checked against a trace's shape and put in the order a trace stores them, once, so
/// that ``TraceWriter/appendToken(phase:prepared:at:)`` appends each of them any number of
/// times by a copy: a synthesiser resampling a reference trace appends every reference token
/// many times, and checking and sorting it each time was 29% of `trace synth --like`
/// (Benchmarks/RESULTS.md, "Synthesis, third session").
///
/// A token is accepted or refused exactly as ``TraceWriter/appendToken(phase:ids:weightBits:predictions:absentLayers:)``
/// accepts or refuses it, and appending it prepared writes the same bytes. Memory: 2 bytes
/// per id and per weight (rounded up to a whole block of ``blockTokens`` tokens), one per
/// layer for the absent flags once a token lacks a layer.
///
/// The tokens are held in blocks of ``blockTokens``, layer-major within a block (a chunk's
/// layout), so that a run of consecutive tokens reaches a chunk's columns as one copy per
/// layer: token-major, every token-layer was a copy of its own to a place a column apart,
/// 16% of a fast-level `trace synth --like` (Benchmarks/RESULTS.md, thirteenth session).
public struct PreparedTokens: Sendable {
    /// The shape the tokens were checked against; a writer of other layers, top-k or experts refuses them.
    public let shape: ModelShape
    /// Whether the tokens carry gate weights.
    public let hasWeights: Bool
    /// Tokens per block: each block holds its tokens' ids layer by layer.
    public static let blockTokens = 1024
    /// Ids in stored order, in blocks: token t's ids at layer l from ``offset(of:layer:)``.
    private(set) var ids: [UInt16] = []
    /// fp16 gate weights beside `ids`; empty without weights.
    private(set) var weightBits: [UInt16] = []
    /// Per token × layer, whether the token lacks it; empty while no token lacks a layer.
    private(set) var absent: [Bool] = []
    /// Per token, how many layers it lacks.
    private(set) var absentLayerCounts: [UInt16] = []

    /// An empty set of tokens for traces of `shape`, with weights or without.
    public init(shape: ModelShape, hasWeights: Bool) {
        self.shape = shape
        self.hasWeights = hasWeights
    }

    /// `count` tokens written in place by `fill`, which must write every token's stored ids
    /// (and weights), absent flags and absent-layer count through ``Storage``, each token
    /// exactly as ``append(ids:weightBits:absentLayers:)`` would have stored it after its
    /// checks, and may do so on several threads, each writing its own tokens. For a reference
    /// trace's decoded chunks, which their decoder has checked.
    init(shape: ModelShape, hasWeights: Bool, count: Int, fill: (Storage) throws -> Void) throws {
        self.shape = shape
        self.hasWeights = hasWeights
        let blocks = (count + Self.blockTokens - 1) / Self.blockTokens
        let values = blocks * Self.blockTokens * shape.decisionsPerToken
        // The unused end of the last block is never read, but is defined.
        let lastBlock = max(0, values - Self.blockTokens * shape.decisionsPerToken)
        let storage = Storage(shape: shape, ids: .allocate(capacity: values), weightBits: hasWeights ? .allocate(capacity: values) : nil,
                              absent: .allocate(capacity: count * shape.layers), absentLayerCounts: .allocate(capacity: count))
        defer {
            storage.ids.deallocate()
            storage.weightBits?.deallocate()
            storage.absent.deallocate()
            storage.absentLayerCounts.deallocate()
        }
        (storage.ids + lastBlock).initialize(repeating: 0, count: values - lastBlock)
        (storage.weightBits.map { $0 + lastBlock })?.initialize(repeating: 0, count: values - lastBlock)
        try fill(storage)
        ids = Array(UnsafeBufferPointer(start: storage.ids, count: values))
        if let weightBits = storage.weightBits { self.weightBits = Array(UnsafeBufferPointer(start: weightBits, count: values)) }
        absentLayerCounts = Array(UnsafeBufferPointer(start: storage.absentLayerCounts, count: count))
        if absentLayerCounts.contains(where: { $0 > 0 }) { absent = Array(UnsafeBufferPointer(start: storage.absent, count: count * shape.layers)) }
    }

    /// Where ``init(shape:hasWeights:count:fill:)``'s `fill` writes: unchecked `Sendable`, as
    /// each thread writes only its own tokens.
    struct Storage: @unchecked Sendable {
        let shape: ModelShape
        /// Stored ids (and weights) in blocks, as ``PreparedTokens/offset(of:layer:)`` places them.
        let ids: UnsafeMutablePointer<UInt16>
        let weightBits: UnsafeMutablePointer<UInt16>?
        /// Per token × layer, whether the token lacks it.
        let absent: UnsafeMutablePointer<Bool>
        /// Per token, how many layers it lacks.
        let absentLayerCounts: UnsafeMutablePointer<UInt16>

        /// Where token `index`'s k values at `layer` start.
        @inline(__always)
        func offset(of index: Int, layer: Int) -> Int {
            PreparedTokens.offset(of: index, layer: layer, layers: shape.layers, topK: shape.topK)
        }
    }

    /// How many tokens are held.
    public var count: Int { absentLayerCounts.count }

    /// Where token `index`'s k stored ids (and weights) at `layer` start in ``ids`` (and
    /// ``weightBits``); the next token of its block follows them, until the block's end.
    @inline(__always)
    func offset(of index: Int, layer: Int) -> Int {
        Self.offset(of: index, layer: layer, layers: shape.layers, topK: shape.topK)
    }

    @inline(__always)
    static func offset(of index: Int, layer: Int, layers: Int, topK k: Int) -> Int {
        let (block, position) = index.quotientAndRemainder(dividingBy: blockTokens)
        return ((block * layers + layer) * blockTokens + position) * k
    }

    /// Checks a token and adds it; its index is the previous ``count``. Throws
    /// ``TraceWriter/InvalidToken`` for what a writer would refuse.
    ///
    /// - Parameters:
    ///   - ids: layers × top-k expert ids, layer by layer.
    ///   - weightBits: the matching fp16 gate weights, or nil when the tokens have none.
    ///   - absentLayers: layers the token lacks.
    public mutating func append(ids: [UInt16], weightBits: [UInt16]?, absentLayers: [Int] = []) throws {
        let absentSet = try TokenCheck.check(ids: ids, weights: weightBits, absentLayers: absentLayers, shape: shape, hasWeights: hasWeights,
                                             isValid: WeightPayload.isValidWeight, value: { Float(Float16(bitPattern: $0)) })
        if count % Self.blockTokens == 0 {
            let block = Self.blockTokens * shape.decisionsPerToken
            self.ids.append(contentsOf: repeatElement(0, count: block))
            if hasWeights { self.weightBits.append(contentsOf: repeatElement(0, count: block)) }
        }
        let first = offset(of: count, layer: 0)
        self.ids.withUnsafeMutableBufferPointer { outIDs in
            self.weightBits.withUnsafeMutableBufferPointer { outWeights in
                TokenCheck.writeStored(ids: ids, weightBits: weightBits, absent: absentSet, topK: shape.topK, experts: shape.experts, into: outIDs, outWeights,
                                       at: first, layerStride: Self.blockTokens * shape.topK)
            }
        }
        if !absentSet.isEmpty || !absent.isEmpty {
            // The flags start with the first token that lacks a layer; the tokens before it lack none.
            absent.append(contentsOf: repeatElement(false, count: count * shape.layers - absent.count))
            absent.append(contentsOf: (0..<shape.layers).map { absentSet.contains($0) })
        }
        absentLayerCounts.append(UInt16(absentSet.count))
    }

    /// Removes every token, keeping the storage for the next ones.
    public mutating func removeAll() {
        ids.removeAll(keepingCapacity: true)
        weightBits.removeAll(keepingCapacity: true)
        absent.removeAll(keepingCapacity: true)
        absentLayerCounts.removeAll(keepingCapacity: true)
    }

    /// Whether some token lacks some layer.
    public var anyAbsent: Bool { !absent.isEmpty }

    /// The layers token `index` lacks, ascending.
    public func absentLayers(of index: Int) -> [Int] {
        guard absentLayerCounts[index] > 0 else { return [] }
        return (0..<shape.layers).filter { absent[index * shape.layers + $0] }
    }

    /// Copies token `index`'s ids (stored order) and weights into `ids` and `weightBits`,
    /// which must hold layers × k each (`weightBits` nothing without weights).
    public func copy(_ index: Int, ids: inout [UInt16], weightBits: inout [UInt16]) {
        let k = shape.topK
        for layer in 0..<shape.layers {
            let from = offset(of: index, layer: layer)
            ids[layer * k..<(layer + 1) * k] = self.ids[from..<from + k]
            if hasWeights { weightBits[layer * k..<(layer + 1) * k] = self.weightBits[from..<from + k] }
        }
    }

    /// Calls `visit(layer, values, count, at)` for the stored ids (or weights, `weights`) of
    /// tokens `indices`, in order, placed as consecutive tokens from token `first` of a chunk's
    /// layer-major columns: each run of consecutive tokens within a block is one piece per
    /// layer (``ColumnPieces``). O(layers × runs) calls.
    func forEachPiece(of indices: [Int32], weights: Bool, placedAt first: Int,
                      _ visit: (_ layer: Int, _ values: UnsafePointer<UInt16>, _ count: Int, _ at: Int) -> Void) {
        let (layers, k, block) = (shape.layers, shape.topK, Self.blockTokens)
        (weights ? weightBits : ids).withUnsafeBufferPointer { stored in
            var start = 0
            while start < indices.count {
                // The run: consecutive tokens from indices[start], not past its block's end.
                let token = Int(indices[start])
                let blockEnd = token - token % block + block
                var end = start + 1
                while end < indices.count && Int(indices[end]) == token + end - start && token + end - start < blockEnd { end += 1 }
                let from = stored.baseAddress! + offset(of: token, layer: 0)
                for layer in 0..<layers { visit(layer, from + layer * block * k, (end - start) * k, (first + start) * k) }
                start = end
            }
        }
    }
}
