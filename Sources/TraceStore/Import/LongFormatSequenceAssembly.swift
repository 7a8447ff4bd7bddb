/// The long format's rows gathered into tokens, a sequence at a time: the sequence's tokens
/// by token index, each filled in place in a pool of assemblies reused across sequences (no
/// copy, no allocation per row), handed to the sink in token order when the sequence ends.
struct LongFormatSequenceAssembly {
    private let shape: ModelShape
    private let withWeights: Bool
    private let lenient: Bool
    /// The open sequence and the file its first row came from.
    private var current: String?
    private var currentFile = ""
    /// The open sequence's tokens: token index → slot in `pool`.
    private var slotOfToken: [Int: Int] = [:]
    private var pool: [TokenAssembly] = []
    private var lastToken = -1, lastSlot = -1
    /// Sequences already handed over (their rows must be contiguous).
    private var finished = Set<String>()

    init(shape: ModelShape, withWeights: Bool, lenient: Bool) {
        (self.shape, self.withWeights, self.lenient) = (shape, withWeights, lenient)
    }

    /// Hands the open sequence's tokens to `sink` in token order and empties the pool.
    mutating func flush(into sink: TraceSink) throws {
        guard let name = current else { return }
        sink.beginSequence(name: name)
        for index in slotOfToken.keys.sorted() {
            try sink.append(pool[slotOfToken[index]!], withWeights: withWeights, lenient: lenient, file: currentFile,
                            place: "sequence \(name), token \(index)")
        }
        finished.insert(name)
        for slot in slotOfToken.values { pool[slot].reset() }
        slotOfToken.removeAll(keepingCapacity: true)
        (lastToken, lastSlot) = (-1, -1)
    }

    /// Files one row (read at `line` of `file`) under its token, after checking it against the
    /// trace's shape and whether its rows give weights.
    mutating func add(_ row: LongFormatImporter.Row, file: String, line: Int, into sink: TraceSink) throws {
        guard row.layer < shape.layers, row.rank < shape.topK, row.expert < shape.experts else {
            throw TraceStoreError(file: file, place: "line \(line)",
                                  problem: "uses layer \(row.layer), rank \(row.rank), expert \(row.expert), beyond \(shape.name)'s \(shape.layers) layers × top-\(shape.topK) × \(shape.experts) experts",
                                  fix: "Pass the right --model, or leave it out to take the shape from the data.")
        }
        guard (row.weight != nil) == withWeights else {
            throw TraceStoreError(file: file, place: "line \(line)",
                                  problem: withWeights ? "gives no weight where the first row gives one" : "gives a weight where the first row gives none",
                                  fix: "Give a weight on every row or on none.")
        }
        if row.sequence != current {
            try flush(into: sink)
            guard !finished.contains(row.sequence) else {
                throw TraceStoreError(file: file, place: "line \(line)", problem: "continues sequence '\(row.sequence)' after other sequences",
                                      fix: "Sort the rows so that each sequence's rows are together.")
            }
            current = row.sequence
            currentFile = file
        }
        if row.token != lastToken {
            if let slot = slotOfToken[row.token] {
                lastSlot = slot
            } else {
                lastSlot = slotOfToken.count
                if lastSlot == pool.count { pool.append(TokenAssembly(layers: shape.layers, topK: shape.topK)) }
                pool[lastSlot].phase = row.phase
                slotOfToken[row.token] = lastSlot
            }
            lastToken = row.token
        }
        guard pool[lastSlot].phase == row.phase else {
            throw TraceStoreError(file: file, place: "line \(line)", problem: "gives token \(row.token) of '\(row.sequence)' phase \(row.phase) where earlier rows said \(pool[lastSlot].phase)",
                                  fix: "All rows of a token share its phase.")
        }
        guard pool[lastSlot].set(layer: row.layer, slot: row.rank, expert: UInt16(row.expert), weight: Float(row.weight ?? 0)) else {
            throw TraceStoreError(file: file, place: "line \(line)", problem: "repeats layer \(row.layer), rank \(row.rank) of token \(row.token) in '\(row.sequence)'",
                                  fix: "Remove the duplicate row.")
        }
    }
}
