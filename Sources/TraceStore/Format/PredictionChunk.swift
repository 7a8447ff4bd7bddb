/// Recorded predictions for one chunk at one lookahead d: for each token and each target
/// layer m ≥ d, the `width` experts a predictor running at layer m − d chose for layer m
/// (e.g. layer m's gate applied to layer m − d's hidden state). Ids are ascending.
///
/// Indexing: the set of token t for target layer m starts at `((m − d) × tokenCount + t) × width`.
public struct PredictionChunk: Sendable {
    /// Layers ahead the prediction was made (0 = at the target layer itself).
    public internal(set) var lookahead: Int
    /// Experts per predicted set.
    public internal(set) var width: Int
    /// MoE layers of the trace.
    public let layers: Int
    /// Tokens in the chunk.
    public internal(set) var tokenCount: Int = 0
    /// Predicted ids (see the type's documentation).
    public internal(set) var ids: [UInt16] = []

    /// An empty prediction chunk.
    public init(layers: Int, lookahead: Int, width: Int) {
        self.layers = layers
        self.lookahead = lookahead
        self.width = width
    }

    /// The predicted experts of `token` for `targetLayer` (empty when `targetLayer < lookahead`).
    public func predicted(token: Int, targetLayer: Int) -> ArraySlice<UInt16> {
        guard targetLayer >= lookahead else { return [] }
        let start = ((targetLayer - lookahead) * tokenCount + token) * width
        return ids[start..<start + width]
    }

    mutating func reset(tokenCount: Int) {
        self.tokenCount = tokenCount
        ids.removeAll(keepingCapacity: true)
        ids.append(contentsOf: repeatElement(0, count: max(0, layers - lookahead) * tokenCount * width))
    }

    /// Sets the predicted ids of `token` for `targetLayer`; they are sorted ascending.
    mutating func set(token: Int, targetLayer: Int, ids predicted: some Collection<UInt16>) {
        let start = ((targetLayer - lookahead) * tokenCount + token) * width
        for (i, id) in predicted.sorted().enumerated() { ids[start + i] = id }
    }
}

/// The prediction payload (traces/FORMAT.md, "prediction payload", layout 1).
///
///     "MSP1" | flags u8 | lookahead u16 | layers u16 | width u16 | tokens u32
///     (layers − lookahead) × tokens × width ids, gap-coded ascending, planes as in routing
enum PredictionPayload {
    static func encode(_ chunk: PredictionChunk, experts: Int) -> [UInt8] {
        var out = ByteWriter()
        let wide = experts > 256
        out.magic("MSP1")
        out.u8(wide ? RoutingPayload.flagWideIDs : 0)
        out.u16(chunk.lookahead)
        out.u16(chunk.layers)
        out.u16(chunk.width)
        out.u32(chunk.tokenCount)
        RoutingPayload.appendPlanes(chunk.ids, topK: chunk.width, gapCoded: true, wide: wide, to: &out.bytes)
        return out.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, experts: Int, tokens: Int, into chunk: inout PredictionChunk) throws {
        var reader = ByteReader(bytes)
        do {
            guard reader.matches("MSP1") else { throw PayloadError("prediction payload does not start with 'MSP1'") }
            let wide = try reader.u8() == RoutingPayload.flagWideIDs
            guard wide == (experts > 256) else { throw PayloadError("prediction payload id width disagrees with \(experts) experts") }
            let lookahead = try reader.u16(), layers = try reader.u16(), width = try reader.u16(), count = try reader.u32()
            guard layers == chunk.layers, lookahead == chunk.lookahead, width == chunk.width, count == tokens, width >= 1, width <= experts else {
                throw PayloadError("prediction payload header (lookahead \(lookahead), \(layers) layers, width \(width), \(count) tokens) disagrees with the trace")
            }
            chunk.reset(tokenCount: tokens)
            let values = chunk.ids.count
            guard reader.remaining == values * (wide ? 2 : 1) else { throw PayloadError("prediction payload has the wrong length") }
            try RoutingPayload.readPlanes(try reader.take(reader.remaining), count: values, wide: wide, into: &chunk.ids)
            try RoutingPayload.validate(&chunk.ids, topK: width, experts: experts, ascending: true)
        } catch is ByteReader.ShortRead {
            throw PayloadError("prediction payload is truncated")
        } catch let error as PayloadError {
            throw error
        } catch {
            throw PayloadError("prediction payload: \(error)")
        }
    }
}
