/// Writes a trace file atomically (see ``AtomicFile``): sequences and their tokens are
/// appended in order, routing is cut into chunks of at most `chunkTokens` tokens,
/// compressed column by column, and the file appears under its name only after
/// ``finish()``. Memory is one chunk, whatever the trace's length.
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
    private var metadata: TraceMetadata
    private let options: Options
    private let database: SQLiteDatabase
    private let insertChunk: SQLiteStatement
    private let insertPrediction: SQLiteStatement
    private let compression: ChunkCompressionPipeline

    private var sequenceRows: [(name: String, prefill: Int, decode: Int, firstChunk: Int)] = []
    private var chunk: RoutingChunk
    private var predictionChunks: [PredictionChunk]
    /// Token-major staging of the current chunk's ids and weights (transposed at flush).
    private var stagedIDs: [UInt16] = []
    private var stagedWeights: [UInt16] = []
    private var stagedPredictions: [[UInt16]]
    private var stagedPhases: [UInt8] = []
    private var stagedAbsent: [Bool] = []  // token-major: token × layers
    private var stagedRuns: [SequenceRun] = []
    private var openSequence: Int?
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
        } catch {
            AtomicFile.remove(temporaryPath)
            throw error
        }
        compression = ChunkCompressionPipeline(level: options.compressionLevel)
        chunk = RoutingChunk(layers: metadata.shape.layers, topK: metadata.shape.topK)
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

    /// Appends one token of the open sequence.
    ///
    /// - Parameters:
    ///   - ids: layers × top-k expert ids, layer by layer (`ids[l × k + r]`).
    ///   - weights: the matching gate weights, or nil when the trace has none.
    ///   - predictions: per recorded lookahead (in `metadata.predictionLookaheads` order),
    ///     layers × width predicted ids by target layer; target layers below the lookahead are ignored.
    ///   - absentLayers: layers the source lacks for this token (their ids and weights are
    ///     ignored and stored as placeholders; the trace becomes format version 2).
    public func appendToken(
        phase: Phase, ids: [UInt16], weights: [Float]? = nil, predictions: [[UInt16]] = [], absentLayers: [Int] = []
    ) throws {
        guard let sequence = openSequence else { preconditionFailure("appendToken before beginSequence") }
        let shape = metadata.shape
        let k = shape.topK
        guard ids.count == shape.layers * k else {
            throw InvalidToken(problem: "has \(ids.count) expert ids where \(shape.layers) layers × top-\(k) = \(shape.layers * k) were expected")
        }
        guard (weights != nil) == metadata.hasWeights else {
            throw InvalidToken(problem: metadata.hasWeights ? "has no gate weights though earlier tokens had" : "has gate weights though earlier tokens had none")
        }
        if let weights, weights.count != ids.count {
            throw InvalidToken(problem: "has \(weights.count) gate weights for \(ids.count) expert ids")
        }
        guard predictions.count == predictionChunks.count else {
            throw InvalidToken(problem: "has predictions for \(predictions.count) lookaheads where \(predictionChunks.count) were declared")
        }
        guard absentLayers.allSatisfy({ (0..<shape.layers).contains($0) }), Set(absentLayers).count < shape.layers else {
            throw InvalidToken(problem: "lacks layers \(absentLayers) of 0..<\(shape.layers): a token needs at least one layer")
        }
        let absent = absentLayers.isEmpty ? [] : Set(absentLayers)
        var ids = ids, weights = weights
        for layer in absent {
            for r in 0..<k {
                ids[layer * k + r] = UInt16(r)
                weights?[layer * k + r] = 0
            }
        }
        for layer in 0..<shape.layers where absent.isEmpty || !absent.contains(layer) {
            for r in 0..<k {
                let id = ids[layer * k + r]
                guard Int(id) < shape.experts else {
                    throw InvalidToken(problem: "routes layer \(layer) to expert \(id), outside 0..<\(shape.experts)")
                }
                for q in 0..<r where ids[layer * k + q] == id {
                    throw InvalidToken(problem: "routes layer \(layer) to expert \(id) twice in one top-\(k)")
                }
                if let weights, !ValidRange.gateWeight.contains(weights[layer * k + r]) {
                    throw InvalidToken(problem: "has gate weight \(weights[layer * k + r]) at layer \(layer); valid: \(ValidRange.text(ValidRange.gateWeight)) (fp16, non-negative)")
                }
            }
        }
        // The staging arrays are moved into locals and filled through buffers: appending to a
        // class's stored array element by element pays a run-time exclusivity check (and a
        // uniqueness check) per element.
        var stagedIDs: [UInt16] = [], stagedWeights: [UInt16] = []
        swap(&stagedIDs, &self.stagedIDs)
        swap(&stagedWeights, &self.stagedWeights)
        if let weights {
            let first = stagedIDs.count
            stagedIDs.append(contentsOf: repeatElement(0, count: ids.count))
            stagedWeights.append(contentsOf: repeatElement(0, count: ids.count))
            Self.stageAscending(ids: ids, weights: weights, topK: k, into: &stagedIDs, &stagedWeights, at: first)
        } else {
            stagedIDs.append(contentsOf: ids)
        }
        swap(&stagedIDs, &self.stagedIDs)
        swap(&stagedWeights, &self.stagedWeights)
        for (i, predicted) in predictions.enumerated() {
            let width = metadata.predictionWidth
            guard predicted.count == shape.layers * width, !predicted.contains(where: { Int($0) >= shape.experts }) else {
                throw InvalidToken(problem: "has a prediction set at lookahead \(metadata.predictionLookaheads[i]) that is not \(shape.layers) × \(width) ids below \(shape.experts)")
            }
            let lookahead = metadata.predictionLookaheads[i]
            for target in lookahead..<max(lookahead, shape.layers) where Set(predicted[target * width..<(target + 1) * width]).count != width {
                throw InvalidToken(problem: "repeats an expert in its prediction for layer \(target) at lookahead \(lookahead)")
            }
            stagedPredictions[i].append(contentsOf: predicted)
        }
        if absent.isEmpty {
            stagedAbsent.append(contentsOf: repeatElement(false, count: shape.layers))
        } else {
            stagedAbsent.append(contentsOf: (0..<shape.layers).map { absent.contains($0) })
        }
        metadata.absentDecisions += absent.count * k
        stagedPhases.append(phase.rawValue)
        if phase == .prefill { sequenceRows[sequence].prefill += 1 } else { sequenceRows[sequence].decode += 1 }
        let index = sequenceRows[sequence].prefill + sequenceRows[sequence].decode - 1
        if let last = stagedRuns.last, last.sequence == sequence {
            stagedRuns[stagedRuns.count - 1].tokens += 1
        } else {
            stagedRuns.append(SequenceRun(sequence: sequence, firstToken: index, tokens: 1))
        }
        metadata.tokens += 1
        if phase == .prefill { metadata.prefillTokens += 1 } else { metadata.decodeTokens += 1 }
        if stagedPhases.count == options.chunkTokens { try flush() }
    }

    /// Writes each layer's `topK` ids in ascending order, with their weights as fp16 bit
    /// patterns alongside, at `offset` of the staged arrays (ids of a layer are distinct:
    /// insertion sort, k is small). O(layers × k²).
    private static func stageAscending(ids: [UInt16], weights: [Float], topK k: Int, into stagedIDs: inout [UInt16],
                                       _ stagedWeights: inout [UInt16], at offset: Int) {
        ids.withUnsafeBufferPointer { ids in
            weights.withUnsafeBufferPointer { weights in
                stagedIDs.withUnsafeMutableBufferPointer { outIDs in
                    stagedWeights.withUnsafeMutableBufferPointer { outWeights in
                        withUnsafeTemporaryAllocation(of: Int.self, capacity: k) { order in
                            for base in stride(from: 0, to: ids.count, by: k) {
                                for r in 0..<k {
                                    var at = r
                                    while at > 0 && ids[base + order[at - 1]] > ids[base + r] {
                                        order[at] = order[at - 1]
                                        at -= 1
                                    }
                                    order[at] = r
                                }
                                for slot in 0..<k {
                                    outIDs[offset + base + slot] = ids[base + order[slot]]
                                    outWeights[offset + base + slot] = Float16(weights[base + order[slot]]).bitPattern
                                }
                            }
                        }
                    }
                }
            }
        }
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

    /// Abandons the trace: the temporary file is removed and nothing appears under `path`.
    public func discard() {
        compression.abandon()
        finished = true
        AtomicFile.remove(temporaryPath)
    }

    private func flush() throws {
        let tokens = stagedPhases.count
        guard tokens > 0 else { return }
        let shape = metadata.shape
        let k = shape.topK
        chunk.reset(index: metadata.chunks, tokenCount: tokens, withWeights: metadata.hasWeights)
        chunk.idsAscending = metadata.hasWeights
        chunk.phases.append(contentsOf: stagedPhases)
        chunk.runs.append(contentsOf: stagedRuns)
        let perToken = shape.layers * k
        if stagedAbsent.contains(true) {
            chunk.absent = (0..<shape.layers * tokens).map { stagedAbsent[($0 % tokens) * shape.layers + $0 / tokens] }
        }
        // Token-major staging to the chunk's layer-major columns, through locals (see appendToken).
        let hasWeights = metadata.hasWeights
        var ids: [UInt16] = [], weightBits: [UInt16] = []
        swap(&ids, &chunk.ids)
        swap(&weightBits, &chunk.weightBits)
        stagedIDs.withUnsafeBufferPointer { stagedIDs in
            stagedWeights.withUnsafeBufferPointer { stagedWeights in
                for t in 0..<tokens {
                    for layer in 0..<shape.layers {
                        let from = t * perToken + layer * k
                        let to = (layer * tokens + t) * k
                        for r in 0..<k {
                            ids[to + r] = stagedIDs[from + r]
                            if hasWeights { weightBits[to + r] = stagedWeights[from + r] }
                        }
                    }
                }
            }
        }
        swap(&ids, &chunk.ids)
        swap(&weightBits, &chunk.weightBits)
        let routingPayload = RoutingPayload.encode(chunk, experts: shape.experts)
        var checksum = PayloadChecksum()
        checksum.add(routingPayload)
        var payloads = [routingPayload]
        if metadata.hasWeights {
            let weightPayload = WeightPayload.encode(chunk)
            checksum.add(weightPayload)
            payloads.append(weightPayload)
        }
        let predictions = predictionPayloads(tokens: tokens)
        let (index, firstSequence, stored) = (chunk.index, stagedRuns[0].sequence, Int(checksum.stored))
        try compression.submit(payloads + predictions.map(\.payload)) { [insertChunk, insertPrediction] compressed in
            try insertChunk.bind(1, index)
            try insertChunk.bind(2, firstSequence)
            try insertChunk.bind(3, tokens)
            try insertChunk.bind(4, compressed[0])
            if hasWeights { try insertChunk.bind(5, compressed[1]) } else { try insertChunk.bindNull(5) }
            try insertChunk.bind(6, stored)
            try insertChunk.run()
            for (number, prediction) in predictions.enumerated() {
                try insertPrediction.bind(1, index)
                try insertPrediction.bind(2, prediction.lookahead)
                try insertPrediction.bind(3, prediction.width)
                try insertPrediction.bind(4, compressed[payloads.count + number])
                try insertPrediction.bind(5, prediction.checksum)
                try insertPrediction.run()
            }
        }
        metadata.chunks += 1
        metadata.chunkTokens = max(metadata.chunkTokens, tokens)
        stagedIDs.removeAll(keepingCapacity: true)
        stagedWeights.removeAll(keepingCapacity: true)
        stagedPhases.removeAll(keepingCapacity: true)
        stagedRuns.removeAll(keepingCapacity: true)
        stagedAbsent.removeAll(keepingCapacity: true)
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
