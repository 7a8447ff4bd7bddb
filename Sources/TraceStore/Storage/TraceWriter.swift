/// Writes a trace file atomically (see ``AtomicFile``): sequences and their tokens are
/// appended in order, routing is cut into chunks of at most `chunkTokens` tokens,
/// compressed column by column, and the file appears under its name only after
/// ``finish()``. Memory is a few chunks (the one being staged and those being encoded and
/// compressed on the workers: cores + 1), whatever the trace's length.
///
/// Tokens are canonicalised on the way in: where weights are given, each layer's k ids
/// are sorted ascending with their weights beside them (rank order is recovered from
/// the weights); without weights the given order is kept as the rank order.
public final class TraceWriter {
    /// Settings that do not belong in the metadata.
    public struct Options: Sendable {
        /// Largest number of tokens per chunk (the unit of compression and of reading).
        public var chunkTokens: Int = 4096
        /// zstd level for the payloads.
        public var compressionLevel: Int32 = 19

        /// Default options.
        public init(chunkTokens: Int = 4096, compressionLevel: Int32 = 19) {
            self.chunkTokens = chunkTokens
            self.compressionLevel = compressionLevel
        }
    }

    /// Why a token was refused; importers add the file and the place.
    public struct InvalidToken: Error, CustomStringConvertible {
        /// What is wrong.
        public var problem: String
        public var description: String { problem }
    }

    /// The path the trace appears under when finished.
    public let path: String
    private let temporaryPath: String
    var metadata: TraceMetadata
    let options: Options
    private let database: SQLiteDatabase
    private let insertChunk: SQLiteStatement
    private let insertPrediction: SQLiteStatement
    /// Starts the file's writeback as chunks are stored, so `finish()`'s fsync has little left.
    private let writeback: FileWriteback
    private let compression: ChunkCompressionPipeline<CompressedChunk>

    var sequenceRows: [(name: String, prefill: Int, decode: Int, firstChunk: Int)] = []
    var predictionChunks: [PredictionChunk]
    /// The current chunk's tokens staged by value, layer-major as a full chunk stores them
    /// (token t's ids at layer l at `(l × chunkTokens + t) × k`); a compression worker encodes
    /// each layer's row from here, placed in a row of the chunk's own length. Prepared tokens
    /// are not copied in here but read where they lie (``stagedGathers``).
    var stagedIDs: [UInt16]
    var stagedWeights: [UInt16]
    var stagedPredictions: [[UInt16]]
    var stagedPhases: [UInt8] = []
    /// The current chunk's absent token-layers, in token order.
    var stagedAbsent: [(token: Int, layer: Int)] = []
    /// The current chunk's prepared tokens, staged by reference (read where they lie when a worker encodes the chunk).
    var stagedGathers: [PreparedGather] = []
    var stagedRuns: [SequenceRun] = []
    var openSequence: Int?
    private var finished = false

    /// Starts a trace at `path` for `metadata` (its totals are filled in as tokens arrive).
    public init(path: String, metadata: TraceMetadata, options: Options = Options()) throws {
        try metadata.shape.validate(file: path)
        precondition(options.chunkTokens >= 1)
        self.path = path
        self.metadata = metadata
        // A chunk holds at most ValidRange.chunkDecisions decisions (what readers accept).
        var options = options
        options.chunkTokens = min(options.chunkTokens, ValidRange.chunkTokens.upperBound,
                                  max(1, ValidRange.chunkDecisions / metadata.shape.decisionsPerToken))
        self.options = options
        temporaryPath = AtomicFile.temporaryPath(for: path)
        AtomicFile.remove(temporaryPath)
        database = try SQLiteDatabase(path: temporaryPath, mode: .readWriteCreate)
        do {
            try database.execute("PRAGMA page_size = \(TraceSchema.pageSize); PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
            try database.execute(TraceSchema.create)
            try database.execute("BEGIN")
            insertChunk = try database.prepare("INSERT INTO chunks (id, first_sequence, tokens, routing, weights, checksum) VALUES (?, ?, ?, ?, ?, ?)")
            insertPrediction = try database.prepare("INSERT INTO predictions (chunk, lookahead, width, data, checksum) VALUES (?, ?, ?, ?, ?)")
            writeback = FileWriteback(path: temporaryPath)
        } catch {
            AtomicFile.remove(temporaryPath)
            throw error
        }
        compression = ChunkCompressionPipeline(level: options.compressionLevel)
        stagedIDs = Self.unstagedColumn(count: options.chunkTokens * metadata.shape.decisionsPerToken)
        stagedWeights = metadata.hasWeights ? Self.unstagedColumn(count: options.chunkTokens * metadata.shape.decisionsPerToken) : []
        predictionChunks = metadata.predictionLookaheads.map {
            PredictionChunk(layers: metadata.shape.layers, lookahead: $0, width: metadata.predictionWidth)
        }
        stagedPredictions = Array(repeating: [], count: metadata.predictionLookaheads.count)
    }

    deinit {
        if !finished { AtomicFile.remove(temporaryPath) }
    }

    /// Opens a new sequence named `name`; the previous one is closed. Returns its id.
    @discardableResult
    public func beginSequence(name: String) -> Int {
        sequenceRows.append((name, 0, 0, metadata.chunks))
        openSequence = sequenceRows.count - 1
        return sequenceRows.count - 1
    }

    /// Completes the file: writes the last chunk, the sequences and the metadata, then
    /// moves it under its name. Returns the final metadata.
    @discardableResult
    public func finish() throws -> TraceMetadata {
        try flush()
        try compression.drain()
        guard metadata.tokens > 0 else {
            throw TraceStoreError(file: path, problem: "no tokens were read, so there is no trace to write",
                                  fix: "Check that the inputs are non-empty and in the format given to --format.")
        }
        metadata.sequences = sequenceRows.count
        let insertMeta = try database.prepare("INSERT INTO meta (key, value) VALUES (?, ?)")
        for (key, value) in metadata.keyValues() {
            try insertMeta.bind(1, key)
            try insertMeta.bind(2, value)
            try insertMeta.run()
        }
        let insertLayer = try database.prepare("INSERT INTO layers (layer, model_layer, expert_bytes, dense_bytes) VALUES (?, ?, ?, ?)")
        let shape = metadata.shape
        for layer in 0..<shape.layers {
            try insertLayer.bind(1, layer)
            try insertLayer.bind(2, shape.modelLayers[layer])
            if let bytes = shape.expertBytes?[layer] { try insertLayer.bind(3, bytes) } else { try insertLayer.bindNull(3) }
            if let bytes = shape.denseBytes?[layer] { try insertLayer.bind(4, bytes) } else { try insertLayer.bindNull(4) }
            try insertLayer.run()
        }
        let insertSequence = try database.prepare(
            "INSERT INTO sequences (id, name, prefill_tokens, decode_tokens, first_chunk) VALUES (?, ?, ?, ?, ?)")
        for (id, row) in sequenceRows.enumerated() {
            try insertSequence.bind(1, id)
            try insertSequence.bind(2, row.name)
            try insertSequence.bind(3, row.prefill)
            try insertSequence.bind(4, row.decode)
            try insertSequence.bind(5, row.firstChunk)
            try insertSequence.run()
        }
        try database.execute("COMMIT")
        finished = true
        try AtomicFile.commit(temporaryPath, to: path)
        return metadata
    }

    /// Appends a sentence to the trace's notes (e.g. what `--lenient` skipped).
    public func addNote(_ sentence: String) {
        metadata.notes = metadata.notes.isEmpty ? sentence : metadata.notes + " " + sentence
    }

    /// Labels the trace synthetic, with `sentence` added to its notes: for an importer that
    /// learns the provenance after it has begun writing (the metadata is written at ``finish()``).
    public func markSynthetic(_ sentence: String) {
        metadata.synthetic = true
        addNote(sentence)
    }

    /// Abandons the trace: the temporary file is removed and nothing appears under `path`.
    public func discard() {
        compression.abandon()
        finished = true
        AtomicFile.remove(temporaryPath)
    }

    /// A chunk as the compression workers hand it back: its blobs (routing, weights where the
    /// trace has them, then one per prediction lookahead) and its content checksum.
    typealias CompressedChunk = (blobs: [[UInt8]], checksum: Int64)

    /// Hands the staged chunk to the workers, which encode, sum and compress it; it is stored
    /// in order by a later call. The staged columns go with it and fresh ones are staged into.
    func flush() throws {
        let tokens = stagedPhases.count
        guard tokens > 0 else { return }
        let shape = metadata.shape
        let (k, hasWeights) = (shape.topK, metadata.hasWeights)
        var chunk = RoutingChunk(layers: shape.layers, topK: k)
        chunk.index = metadata.chunks
        chunk.tokenCount = tokens
        chunk.idsAscending = hasWeights
        chunk.phases = stagedPhases
        chunk.runs = stagedRuns
        if !stagedAbsent.isEmpty {
            chunk.absent = Array(repeating: false, count: shape.layers * tokens)
            for (token, layer) in stagedAbsent { chunk.absent[layer * tokens + token] = true }
        }
        // The columns move to the worker in a box of their own, which encodes the chunk from
        // them and from the prepared tokens staged by reference, where each lies.
        let staged = StagedColumns(gathers: stagedGathers, tokens: tokens, chunkTokens: options.chunkTokens, layers: shape.layers, topK: k)
        swap(&staged.ids, &stagedIDs)
        swap(&staged.weightBits, &stagedWeights)
        stagedIDs = Self.unstagedColumn(count: options.chunkTokens * shape.decisionsPerToken)
        if hasWeights { stagedWeights = Self.unstagedColumn(count: options.chunkTokens * shape.decisionsPerToken) }
        stagedGathers.removeAll()
        let predictions = predictionPayloads(tokens: tokens)
        let (index, firstSequence, experts) = (chunk.index, stagedRuns[0].sequence, shape.experts)
        try compression.submit({ [chunk, staged] compressor in
            var payload: [UInt8] = []
            swap(&payload, &compressor.inputBuffer)
            defer { swap(&payload, &compressor.inputBuffer) }
            RoutingPayload.encode(chunk, experts: experts, ids: staged.pieces(weights: false), into: &payload)
            var checksum = PayloadChecksum()
            checksum.add(payload)
            var blobs = [compressor.compress(payload)]
            if hasWeights {
                WeightPayload.encode(chunk, weights: staged.pieces(weights: true), into: &payload)
                checksum.add(payload)
                blobs.append(compressor.compress(payload))
            }
            blobs += predictions.map { compressor.compress($0.payload) }
            return (blobs, checksum.stored)
        }, store: { [insertChunk, insertPrediction, writeback, compression] (compressed: CompressedChunk) in
            writeback.wrote(compressed.blobs.reduce(0) { $0 + $1.count })
            try insertChunk.bind(1, index)
            try insertChunk.bind(2, firstSequence)
            try insertChunk.bind(3, tokens)
            try insertChunk.bind(6, Int(compressed.checksum))
            if hasWeights {
                try insertChunk.run(borrowing: [(4, compressed.blobs[0]), (5, compressed.blobs[1])])
            } else {
                try insertChunk.bindNull(5)
                try insertChunk.run(borrowing: [(4, compressed.blobs[0])])
            }
            let first = hasWeights ? 2 : 1
            for (number, prediction) in predictions.enumerated() {
                try insertPrediction.bind(1, index)
                try insertPrediction.bind(2, prediction.lookahead)
                try insertPrediction.bind(3, prediction.width)
                try insertPrediction.bind(5, prediction.checksum)
                try insertPrediction.run(borrowing: [(4, compressed.blobs[first + number])])
            }
            // SQLite has copied them (the bindings are cleared after each row).
            compression.recycle(compressed.blobs)
        })
        metadata.chunks += 1
        metadata.chunkTokens = max(metadata.chunkTokens, tokens)
        stagedPhases.removeAll(keepingCapacity: true)
        stagedRuns.removeAll(keepingCapacity: true)
        stagedAbsent.removeAll(keepingCapacity: true)
    }

    /// A staged chunk's columns on their way to a compression worker, which encodes the chunk
    /// from them and from the prepared tokens staged by reference (a class, so the worker
    /// holds the only reference to the arrays). Unchecked `Sendable`: handed from the writer's
    /// thread to one worker.
    private final class StagedColumns: @unchecked Sendable {
        /// The tokens staged by value, layer-major for a full chunk (``TraceWriter/stagedIDs``).
        var ids: [UInt16] = []
        var weightBits: [UInt16] = []
        let gathers: [PreparedGather]
        let (tokens, chunkTokens, layers, topK): (Int, Int, Int, Int)

        init(gathers: [PreparedGather], tokens: Int, chunkTokens: Int, layers: Int, topK: Int) {
            self.gathers = gathers
            (self.tokens, self.chunkTokens, self.layers, self.topK) = (tokens, chunkTokens, layers, topK)
        }

        /// The chunk's ids (or weights) as pieces: the prepared tokens where they lie, and the
        /// tokens between them from the staged columns. A shorter last chunk needs no closing
        /// up: each piece lands at its place in a row of `tokens` tokens.
        func pieces(weights: Bool) -> ColumnPieces {
            ColumnPieces(rowLength: tokens * topK) { [self] visit in
                (weights ? weightBits : ids).withUnsafeBufferPointer { staged in
                    // Tokens first..<end staged by value, one piece per layer.
                    func visitStaged(_ first: Int, _ end: Int) {
                        guard end > first else { return }
                        for layer in 0..<layers {
                            visit(layer, staged.baseAddress! + (layer * chunkTokens + first) * topK, (end - first) * topK, first * topK)
                        }
                    }
                    var token = 0
                    for gather in gathers {
                        visitStaged(token, gather.at)
                        gather.prepared.forEachPiece(of: gather.indices, weights: weights, placedAt: gather.at, visit)
                        token = gather.at + gather.indices.count
                    }
                    visitStaged(token, tokens)
                }
            }
        }
    }

    /// A column of `count` values to stage a chunk into, left uninitialised: every token staged
    /// writes each of its slots (absent layers as placeholders) before the chunk is encoded, and
    /// nothing reads a slot no token wrote, so zero-filling 2.5 MB a chunk (ESFT) bought nothing.
    /// Two arrays, not one shared, for ids and weights: a shared buffer is copied on the first write.
    private static func unstagedColumn(count: Int) -> [UInt16] {
        [UInt16](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// The current chunk's prediction payloads (one per lookahead), encoded, with their checksums.
    private func predictionPayloads(tokens: Int) -> [(lookahead: Int, width: Int, payload: [UInt8], checksum: Int)] {
        let shape = metadata.shape
        let width = metadata.predictionWidth
        var payloads: [(lookahead: Int, width: Int, payload: [UInt8], checksum: Int)] = []
        for i in predictionChunks.indices {
            let lookahead = predictionChunks[i].lookahead
            predictionChunks[i].reset(tokenCount: tokens)
            for t in 0..<tokens {
                for target in lookahead..<max(lookahead, shape.layers) {
                    let from = (t * shape.layers + target) * width
                    predictionChunks[i].set(token: t, targetLayer: target, ids: stagedPredictions[i][from..<from + width])
                }
            }
            let payload = PredictionPayload.encode(predictionChunks[i], experts: shape.experts)
            var checksum = PayloadChecksum()
            checksum.add(payload)
            payloads.append((lookahead, width, payload, Int(checksum.stored)))
            stagedPredictions[i].removeAll(keepingCapacity: true)
        }
        return payloads
    }
}
