/// Streams a trace's chunks in order, decoding each into caller-owned buffers.
///
/// Memory: one compressed blob (SQLite's), one decompressed payload and the decoded
/// chunk, all reused; O(chunk tokens × layers × top-k), independent of trace length.
public final class ChunkCursor {
    private let reader: TraceReader
    private let rows: SQLiteStatement
    private let predictionRows: SQLiteStatement?
    private let decompressor = ZstdDecompressor()
    private var payload: [UInt8] = []
    /// Whether rows carry content checksums to check (format version 3 on).
    private let verifies: Bool
    private var expectedIndex = 0
    private var tokensSeen = 0
    private let startChunk: Int
    /// Recorded predictions of the current chunk, one per requested lookahead.
    public private(set) var predictions: [PredictionChunk]
    /// Whether chunks are decoded with their gate weights (when the trace has them). A cursor
    /// that skips them neither inflates them nor checks the content checksum, which covers the
    /// routing and the weights together: for a pre-pass over the routing alone whose run reads
    /// the same chunks again in full, checking them then.
    public var readsWeights = true

    init(reader: TraceReader, lookaheads: [Int], startChunk: Int = 0) throws {
        self.reader = reader
        self.startChunk = startChunk
        expectedIndex = startChunk
        verifies = reader.metadata.hasContentChecksums
        let checksum = verifies ? "checksum" : "NULL"
        rows = try reader.database.prepare("SELECT id, tokens, routing, weights, \(checksum) FROM chunks WHERE id >= ? ORDER BY id")
        try rows.bind(1, startChunk)
        predictionRows = lookaheads.isEmpty ? nil : try reader.database.prepare("SELECT data, \(checksum) FROM predictions WHERE chunk = ? AND lookahead = ?")
        let meta = reader.metadata
        predictions = lookaheads.map { PredictionChunk(layers: meta.shape.layers, lookahead: $0, width: meta.predictionWidth) }
    }

    /// A chunk buffer shaped for this trace, to pass to ``next(into:)``.
    public func makeChunk() -> RoutingChunk {
        RoutingChunk(layers: reader.metadata.shape.layers, topK: reader.metadata.shape.topK)
    }

    /// Decodes the next chunk into `chunk`; false after the last one.
    ///
    /// Throws a ``TraceStoreError`` naming the file and the chunk when a payload is
    /// damaged or the file holds fewer chunks or tokens than its metadata says.
    public func next(into chunk: inout RoutingChunk) throws -> Bool {
        let meta = reader.metadata
        guard try rows.step() else {
            guard expectedIndex == meta.chunks, startChunk > 0 || tokensSeen == meta.tokens else {
                throw reader.corrupt("table 'chunks'", "ends after \(expectedIndex) chunks and \(tokensSeen) tokens; the metadata says \(meta.chunks) and \(meta.tokens)")
            }
            return false
        }
        let index = rows.int(0)
        let place = "chunk \(index)"
        guard index == expectedIndex else {
            throw reader.corrupt("chunk \(expectedIndex)", "is missing (the next chunk is \(index))")
        }
        let tokens = rows.int(1)
        let shape = meta.shape
        let maxTokens = max(meta.chunkTokens, 1)
        guard (1...maxTokens).contains(tokens) else {
            throw reader.corrupt(place, "says it holds \(tokens) tokens; chunks of this trace hold 1…\(maxTokens) (meta 'chunk_tokens')")
        }
        // Bounded by the row's tokens, so that a frame cannot make the reader allocate more.
        let routingLimit = 17 + 13 * tokens + 2 * shape.layers * tokens * shape.topK
        try inflate(rows, column: 2, what: "routing", limit: routingLimit, place: place)
        var checksum = PayloadChecksum()
        // The routing and weights share one checksum, checked only where both are read.
        let checksContent = verifies && readsWeights
        if checksContent { checksum.add(payload) }
        do {
            try payload.withUnsafeBytes { bytes in
                try RoutingPayload.decode(bytes, index: index, experts: shape.experts, maxTokens: maxTokens, into: &chunk)
            }
        } catch let error as PayloadError {
            throw reader.corrupt(place, error.problem)
        }
        guard chunk.tokenCount == tokens else {
            throw reader.corrupt(place, "holds \(chunk.tokenCount) tokens but its row says \(tokens)")
        }
        if meta.hasWeights && readsWeights {
            guard !rows.isNull(3) else { throw reader.corrupt(place, "has no weights though the trace has weights") }
            try inflate(rows, column: 3, what: "weight", limit: 12 + 2 * shape.layers * tokens * shape.topK, place: place)
            if checksContent { checksum.add(payload) }
            do {
                try payload.withUnsafeBytes { bytes in try WeightPayload.decode(bytes, into: &chunk) }
            } catch let error as PayloadError {
                throw reader.corrupt(place, error.problem)
            }
        }
        if checksContent { try check(checksum, against: rows, column: 4, what: "routing and weights", place: place) }
        if let predictionRows {
            for i in predictions.indices {
                predictionRows.reset()
                try predictionRows.bind(1, index)
                try predictionRows.bind(2, predictions[i].lookahead)
                guard try predictionRows.step() else {
                    throw reader.corrupt(place, "has no predictions at lookahead \(predictions[i].lookahead)")
                }
                try inflate(predictionRows, column: 0, what: "prediction", limit: 15 + 2 * shape.layers * tokens * predictions[i].width, place: place)
                if verifies {
                    var sum = PayloadChecksum()
                    sum.add(payload)
                    try check(sum, against: predictionRows, column: 1, what: "lookahead-\(predictions[i].lookahead) predictions", place: place)
                }
                do {
                    try payload.withUnsafeBytes { bytes in
                        try PredictionPayload.decode(bytes, experts: shape.experts, tokens: tokens, into: &predictions[i])
                    }
                } catch let error as PayloadError {
                    throw reader.corrupt(place, error.problem)
                }
            }
        }
        expectedIndex += 1
        tokensSeen += tokens
        return true
    }

    /// Compares a decoded payload's checksum with the one its row stores.
    private func check(_ checksum: PayloadChecksum, against row: SQLiteStatement, column: Int32, what: String, place: String) throws {
        guard !row.isNull(column) else { throw reader.corrupt(place, "has no content checksum (format version \(reader.metadata.formatVersion) stores one per row)") }
        guard Int64(row.int(column)) == checksum.stored else {
            throw reader.corrupt(place, "decodes to \(what) whose content checksum differs from the one stored: the blob was altered after it was written")
        }
    }

    private func inflate(_ statement: SQLiteStatement, column: Int32, what: String, limit: Int, place: String) throws {
        do {
            try statement.withBlob(column) { frame in
                try decompressor.decompress(frame, into: &payload, limit: limit)
            }
        } catch let failure as ZstdDecompressor.Failure {
            throw reader.corrupt(place, "its \(what) blob \(failure)")
        }
    }
}
