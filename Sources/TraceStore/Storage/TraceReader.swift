/// Opens a trace file and streams its routing chunk by chunk.
///
/// Opening reads only the metadata, the per-layer table and the sequence list; routing
/// is read by ``ChunkCursor``, one chunk in memory at a time, so memory is bounded by
/// the chunk size and not by the trace's length. Every payload is checked against the
/// metadata as it is decoded; a damaged file yields a ``TraceStoreError`` naming the
/// file and the chunk, never a crash.
public final class TraceReader {
    /// The trace's path.
    public let path: String
    /// What the file says about itself.
    public let metadata: TraceMetadata
    /// The sequences, in order.
    public let sequences: [SequenceInfo]
    /// File size in bytes.
    public let fileBytes: Int
    let database: SQLiteDatabase

    /// Opens `path`, checking that it is a moesim trace of a version this build reads.
    public init(path: String) throws {
        self.path = path
        guard let size = AtomicFile.size(path) else {
            throw TraceStoreError(file: path, problem: "does not exist", fix: "Check the path, or create the trace with `moesim trace import`.")
        }
        fileBytes = size
        database = try SQLiteDatabase(path: path, mode: .readOnly)
        var meta: [String: String] = [:]
        var layerRows: [(modelLayer: Int, expertBytes: Int?, denseBytes: Int?)] = []
        var sequences: [SequenceInfo] = []
        do {
            let metaRows = try database.prepare("SELECT key, value FROM meta")
            while try metaRows.step() { meta[metaRows.text(0)] = metaRows.text(1) }
            let layers = try database.prepare("SELECT model_layer, expert_bytes, dense_bytes FROM layers ORDER BY layer")
            while try layers.step() {
                layerRows.append((layers.int(0), layers.isNull(1) ? nil : layers.int(1), layers.isNull(2) ? nil : layers.int(2)))
            }
            let rows = try database.prepare("SELECT id, name, prefill_tokens, decode_tokens, first_chunk FROM sequences ORDER BY id")
            while try rows.step() {
                sequences.append(SequenceInfo(id: rows.int(0), name: rows.text(1), prefillTokens: rows.int(2),
                                              decodeTokens: rows.int(3), firstChunk: rows.int(4)))
            }
        } catch let error as TraceStoreError where error.problem.contains("no such table") {
            throw TraceStoreError(file: path, problem: "is an SQLite file but not a moesim trace (\(error.problem))",
                                  fix: "Import the source with `moesim trace import --format F INPUT -o OUT` first.")
        }
        let metadata = try TraceMetadata.decode(meta: meta, layerRows: layerRows, file: path)
        self.metadata = metadata
        if let bad = sequences.first(where: {
            !ValidRange.traceCount.contains($0.prefillTokens) || !ValidRange.traceCount.contains($0.decodeTokens)
                || !(0...metadata.chunks).contains($0.firstChunk)
        }) {
            throw TraceStoreError(file: path, place: "table 'sequences', row \(bad.id)",
                                  problem: "has \(bad.prefillTokens) prompt and \(bad.decodeTokens) generated tokens from chunk \(bad.firstChunk); valid: token counts in \(ValidRange.text(ValidRange.traceCount)), a chunk of 0…\(metadata.chunks)",
                                  fix: "The file is damaged; re-create it with `moesim trace import`.")
        }
        guard sequences.count == metadata.sequences,
              sequences.enumerated().allSatisfy({ $0.offset == $0.element.id }),
              sequences.reduce(0, { $0 + $1.tokens }) == metadata.tokens
        else {
            throw TraceStoreError(file: path, place: "table 'sequences'",
                                  problem: "does not add up to the \(metadata.sequences) sequences and \(metadata.tokens) tokens in 'meta'",
                                  fix: "The file is damaged or was cut short; re-create it with `moesim trace import`.")
        }
        self.sequences = sequences
    }

    /// A cursor over all chunks in order, optionally with the recorded predictions at `lookaheads`.
    public func chunks(predictions lookaheads: [Int] = []) throws -> ChunkCursor {
        try checkLookaheads(lookaheads)
        return try ChunkCursor(reader: self, lookaheads: lookaheads)
    }

    /// A cursor that starts at chunk `index` (a sequence's `firstChunk`), for readers that
    /// follow several sequences at once; the totals check at the end covers chunk count only.
    public func chunks(from index: Int, predictions lookaheads: [Int] = []) throws -> ChunkCursor {
        guard index >= 0, index <= metadata.chunks else {
            throw TraceStoreError(file: path, problem: "has no chunk \(index) (it has \(metadata.chunks))",
                                  fix: "Pass a chunk index from the sequences table.")
        }
        try checkLookaheads(lookaheads)
        return try ChunkCursor(reader: self, lookaheads: lookaheads, startChunk: index)
    }

    /// The first token (in trace order) of each chunk, and of the end: `chunkStarts[c + 1] −
    /// chunkStarts[c]` tokens in chunk c, from the chunks' rows without reading their blobs.
    /// Checked against the metadata's chunks and tokens, so that readers splitting the chunks
    /// between threads (each with a cursor from its first chunk) cover the trace exactly.
    func chunkStarts() throws -> [Int] {
        let rows = try database.prepare("SELECT id, tokens FROM chunks ORDER BY id")
        var starts = [0]
        while try rows.step() {
            guard rows.int(0) == starts.count - 1, rows.int(1) >= 1 else {
                throw corrupt("chunk \(starts.count - 1)", "is missing or holds \(rows.int(1)) tokens (the row found is chunk \(rows.int(0)))")
            }
            starts.append(starts[starts.count - 1] + rows.int(1))
        }
        guard starts.count == metadata.chunks + 1, starts[starts.count - 1] == metadata.tokens else {
            throw corrupt("table 'chunks'", "holds \(starts.count - 1) chunks and \(starts[starts.count - 1]) tokens; the metadata says \(metadata.chunks) and \(metadata.tokens)")
        }
        return starts
    }

    private func checkLookaheads(_ lookaheads: [Int]) throws {
        for d in lookaheads where !metadata.predictionLookaheads.contains(d) {
            let recorded = metadata.predictionLookaheads.isEmpty ? "none" : metadata.predictionLookaheads.map(String.init).joined(separator: ", ")
            throw TraceStoreError(file: path, problem: "has no recorded predictions at lookahead \(d) (it has: \(recorded))",
                                  fix: "Use a lookahead the trace was recorded with, or a learned predictor.")
        }
    }

    /// Compressed bytes of the routing ids, the weights and the predictions, summed over chunks.
    public func payloadBytes() throws -> (routing: Int, weights: Int, predictions: Int) {
        let sums = try database.prepare("SELECT COALESCE(SUM(length(routing)), 0), COALESCE(SUM(length(weights)), 0) FROM chunks")
        _ = try sums.step()
        let predictions = try database.prepare("SELECT COALESCE(SUM(length(data)), 0) FROM predictions")
        _ = try predictions.step()
        return (sums.int(0), sums.int(1), predictions.int(0))
    }

    func corrupt(_ place: String, _ problem: String) -> TraceStoreError {
        TraceStoreError(file: path, place: place, problem: problem,
                        fix: "The trace is damaged; re-create it from its source with `moesim trace import` (or `trace synth`).")
    }
}
