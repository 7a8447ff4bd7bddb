/// Tokens checked against a trace's shape and put in the order a trace stores them, once, so
/// that ``TraceWriter/appendToken(phase:prepared:at:)`` appends each of them any number of
/// times by a copy: a synthesiser resampling a reference trace appends every reference token
/// many times, and checking and sorting it each time was 29% of `trace synth --like`
/// (Benchmarks/RESULTS.md, "Synthesis, third session").
///
/// A token is accepted or refused exactly as ``TraceWriter/appendToken(phase:ids:weightBits:predictions:absentLayers:)``
/// accepts or refuses it, and appending it prepared writes the same bytes. Memory: 2 bytes
/// per id and per weight (rounded up to a whole block of ``blockTokens`` tokens, in
/// ``PreparedBlocks``), one per layer for the absent flags once a token lacks a layer.
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
    /// Ids and weights in stored order, in blocks: token t's at layer l where ``location(of:layer:)`` says.
    private var blocks: PreparedBlocks
    /// Per token × layer, whether the token lacks it; empty while no token lacks a layer.
    private(set) var absent: [Bool] = []
    /// Per token, how many layers it lacks.
    private(set) var absentLayerCounts: [UInt16] = []

    /// An empty set of tokens for traces of `shape`, with weights or without.
    public init(shape: ModelShape, hasWeights: Bool) {
        self.shape = shape
        self.hasWeights = hasWeights
        blocks = PreparedBlocks(valuesPerBlock: Self.blockTokens * shape.decisionsPerToken, hasWeights: hasWeights)
    }

    /// `count` tokens written in place by `fill`, which must write every token's stored ids
    /// (and weights), absent flags and absent-layer count through ``Storage``, each token
    /// exactly as ``append(ids:weightBits:absentLayers:)`` would have stored it after its
    /// checks, and may do so on several threads, each writing its own tokens. For a reference
    /// trace's decoded chunks, which their decoder has checked.
    init(shape: ModelShape, hasWeights: Bool, count: Int, fill: (Storage) throws -> Void) throws {
        self.init(shape: shape, hasWeights: hasWeights)
        blocks.reserve(blocks: (count + Self.blockTokens - 1) / Self.blockTokens)
        let storage = Storage(shape: shape, ids: blocks.ids, weightBits: hasWeights ? blocks.weightBits : nil,
                              absent: .allocate(capacity: count * shape.layers), absentLayerCounts: .allocate(capacity: count))
        defer {
            storage.absent.deallocate()
            storage.absentLayerCounts.deallocate()
        }
        try fill(storage)
        absentLayerCounts = Array(UnsafeBufferPointer(start: storage.absentLayerCounts, count: count))
        if absentLayerCounts.contains(where: { $0 > 0 }) { absent = Array(UnsafeBufferPointer(start: storage.absent, count: count * shape.layers)) }
    }

    /// Where ``init(shape:hasWeights:count:fill:)``'s `fill` writes: unchecked `Sendable`, as
    /// each thread writes only its own tokens.
    struct Storage: @unchecked Sendable {
        let shape: ModelShape
        /// Per block, its stored ids (and weights), as ``PreparedTokens/location(of:layer:)`` places them.
        let ids: [UnsafeMutablePointer<UInt16>]
        let weightBits: [UnsafeMutablePointer<UInt16>]?
        /// Per token × layer, whether the token lacks it.
        let absent: UnsafeMutablePointer<Bool>
        /// Per token, how many layers it lacks.
        let absentLayerCounts: UnsafeMutablePointer<UInt16>

        /// Where token `index`'s k values at `layer` start.
        @inline(__always)
        func location(of index: Int, layer: Int) -> (block: Int, offset: Int) {
            PreparedTokens.location(of: index, layer: layer, topK: shape.topK)
        }
    }

    /// How many tokens are held.
    public var count: Int { absentLayerCounts.count }

    /// Which block holds token `index`'s k stored ids (and weights) at `layer`, and where in
    /// it they start; the next token of the block follows them, until the block's end.
    @inline(__always)
    static func location(of index: Int, layer: Int, topK k: Int) -> (block: Int, offset: Int) {
        let (block, position) = index.quotientAndRemainder(dividingBy: blockTokens)
        return (block, (layer * blockTokens + position) * k)
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
        let k = shape.topK
        if !isKnownUniquelyReferenced(&blocks) { blocks = blocks.copy(tokens: count, blockTokens: Self.blockTokens, layers: shape.layers, rowValues: k) }
        let (block, first) = Self.location(of: count, layer: 0, topK: k)
        blocks.reserve(blocks: block + 1)
        let size = blocks.valuesPerBlock
        TokenCheck.writeStored(ids: ids, weightBits: weightBits, absent: absentSet, topK: k, experts: shape.experts,
                               into: UnsafeMutableBufferPointer(start: blocks.ids[block], count: size),
                               hasWeights ? UnsafeMutableBufferPointer(start: blocks.weightBits[block], count: size) : UnsafeMutableBufferPointer(start: nil, count: 0),
                               at: first, layerStride: Self.blockTokens * k)
        if !absentSet.isEmpty || !absent.isEmpty {
            // The flags start with the first token that lacks a layer; the tokens before it lack none.
            absent.append(contentsOf: repeatElement(false, count: count * shape.layers - absent.count))
            absent.append(contentsOf: (0..<shape.layers).map { absentSet.contains($0) })
        }
        absentLayerCounts.append(UInt16(absentSet.count))
    }

    /// Removes every token, keeping the blocks for the next ones where no copy shares them.
    public mutating func removeAll() {
        if !isKnownUniquelyReferenced(&blocks) { blocks = PreparedBlocks(valuesPerBlock: blocks.valuesPerBlock, hasWeights: hasWeights) }
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
        precondition(index >= 0 && index < count, "no prepared token \(index) of \(count)")
        let k = shape.topK
        for layer in 0..<shape.layers {
            let (block, from) = Self.location(of: index, layer: layer, topK: k)
            for r in 0..<k {
                ids[layer * k + r] = blocks.ids[block][from + r]
                if hasWeights { weightBits[layer * k + r] = blocks.weightBits[block][from + r] }
            }
        }
    }

    /// Calls `visit(layer, values, count, at)` for the stored ids (or weights, `weights`) of
    /// tokens `indices`, in order, placed as consecutive tokens from token `first` of a chunk's
    /// layer-major columns: each run of consecutive tokens within a block is one piece per
    /// layer (``ColumnPieces``). O(layers × runs) calls.
    func forEachPiece(of indices: [Int32], weights: Bool, placedAt first: Int,
                      _ visit: (_ layer: Int, _ values: UnsafePointer<UInt16>, _ count: Int, _ at: Int) -> Void) {
        let (layers, k, block, count) = (shape.layers, shape.topK, Self.blockTokens, self.count)
        let stored = weights ? blocks.weightBits : blocks.ids
        var start = 0
        while start < indices.count {
            // The run: consecutive tokens from indices[start], not past its block's end.
            let token = Int(indices[start])
            precondition(token >= 0 && token < count, "no prepared token \(token) of \(count)")
            let blockEnd = token - token % block + block
            var end = start + 1
            while end < indices.count && Int(indices[end]) == token + end - start && token + end - start < blockEnd && token + end - start < count { end += 1 }
            let (inBlock, offset) = Self.location(of: token, layer: 0, topK: k)
            let from = UnsafePointer(stored[inBlock] + offset)
            for layer in 0..<layers { visit(layer, from + layer * block * k, (end - start) * k, (first + start) * k) }
            start = end
        }
    }
}
