import Foundation

/// moesim's generic long format (traces/FORMAT.md, "Generic long format"): one row per
/// routed expert with columns `sequence, token, phase, layer, rank, expert, weight`, as
/// CSV (a header row names the columns, in any order; `weight` may be empty or absent) or
/// as JSON Lines (one object per row with those keys). It is what `trace export` writes
/// and what any engine can emit.
///
/// Rows of one sequence must be contiguous; within a sequence they may come in any
/// order. The shape comes from `--model`, else from the data (layers and top-k from the
/// largest layer and rank, experts from `--experts` or the largest id). The trace's shape
/// and whether it has weights are fixed before its first chunk is written. With `--model`
/// the input is read once: the first row says whether rows give weights, and every row is
/// checked against that and the shape as it is filed (a provenance line found later still
/// labels the trace, whose metadata is written last). Without `--model` the shape is
/// the largest layer, rank and expert of the whole input, which takes a pass of its own
/// before the pass that writes. Memory is one sequence.
struct LongFormatImporter: RoutingImporter {
    enum Syntax { case csv, jsonl }

    let inputs: [String]
    let options: ImportOptions
    let syntax: Syntax

    static let columns = ["sequence", "token", "phase", "layer", "rank", "expert", "weight"]
    /// The columns that hold numbers (JSON Lines must give them as JSON numbers).
    static let numericColumns = ["token", "layer", "rank", "expert", "weight"]

    struct Row {
        var sequence: String
        var token: Int
        var phase: Phase
        var layer: Int
        var rank: Int
        var expert: Int
        var weight: Double?
    }

    /// Calls `body` with every row of every input, in order (with only each input's first
    /// row when `firstRowOnly`), and `provenance` with the provenance line `trace export`
    /// writes first for a synthetic trace (with `firstRowOnly`, those before the first row).
    ///
    /// Data rows are read from their bytes where they can be (LongFormatCSVRow,
    /// LongFormatJSONRow); JSON Lines a run of lines at a time on two threads, since reading
    /// an object is ~60% of an import (~3,100 instructions a row), while `body` (filing rows
    /// into sequences) stays on the calling thread, in order. CSV rows are read where they are
    /// filed: at ~1,900 instructions a row in all, handing rows between threads cost more than
    /// the second thread saved (Benchmarks/RESULTS.md, tenth session). The header, comments
    /// and anything unusual take the general path, in order.
    func forEachRow(provenance: (TraceExport.Provenance) -> Void = { _ in }, firstRowOnly: Bool = false,
                    _ body: (Row, _ file: String, _ line: Int) throws -> Void) throws {
        for file in inputs {
            let reader = try LineReader(path: file)
            var input = InputRows(importer: self, file: file)
            if firstRowOnly || syntax == .csv {
                try reader.forEachLine { bytes, line in
                    try !input.take(bytes, line: line, row: input.bytesRow(bytes), provenance: provenance, body) || !firstRowOnly
                }
            } else {
                try reader.forEachRun { run, before in
                    let pieces = run.count >= Self.parallelRunBytes ? Self.halves(of: run) : [run]
                    let parsed = Self.jsonRows(of: pieces, after: before, reader: input.jsonRow)
                    var linesBefore = before
                    for (piece, rows) in zip(pieces, parsed) {
                        var next = 0
                        _ = try LineReader.lines(in: piece, after: linesBefore) { bytes, line in
                            _ = try input.take(bytes, line: line, row: rows[next], provenance: provenance, body)
                            next += 1
                            return true
                        }
                        linesBefore += rows.count
                    }
                    return true
                }
            }
            guard input.rows > 0 else { throw TraceStoreError(file: file, problem: "holds no routing rows", fix: "Check the file and --format.") }
        }
    }

    /// JSON Lines runs shorter than this are read as one piece (a second thread costs more than it saves).
    static let parallelRunBytes = 64 << 10

    /// One input's reading state: the CSV header's columns, the bytes readers, rows read.
    private struct InputRows {
        let importer: LongFormatImporter
        let file: String
        var columnIndex: [String: Int]?
        var csvRow: LongFormatCSVRow?
        var jsonRow = LongFormatJSONRow()
        var rows = 0

        init(importer: LongFormatImporter, file: String) {
            self.importer = importer
            self.file = file
        }

        /// The row the bytes path reads on `bytes`, or nil.
        mutating func bytesRow(_ bytes: UnsafeBufferPointer<UInt8>) -> Row? {
            importer.syntax == .csv ? csvRow?.read(bytes) : jsonRow.read(bytes)
        }

        /// Files line `line`: `row` where the bytes path read one, else through the general
        /// path. Returns whether the line held a row.
        mutating func take(_ bytes: UnsafeBufferPointer<UInt8>, line: Int, row: Row?, provenance: (TraceExport.Provenance) -> Void,
                           _ body: (Row, _ file: String, _ line: Int) throws -> Void) throws -> Bool {
            if let row {
                rows += 1
                try body(row, file, line)
                return true
            }
            let place = "line \(line)"
            guard let text = TextFields.utf8(bytes) else {
                throw TraceStoreError(file: file, place: place, problem: "is not UTF-8 text", fix: "Write the file as UTF-8.")
            }
            guard let row = try importer.readLine(text, file: file, place: place, columnIndex: &columnIndex, provenance: provenance) else {
                if importer.syntax == .csv, csvRow == nil, let columnIndex { csvRow = LongFormatCSVRow(columnIndex: columnIndex) }
                return false
            }
            rows += 1
            try body(row, file, line)
            return true
        }
    }

    /// `run` cut in two at the line end nearest its middle (one piece when it holds one line).
    private static func halves(of run: UnsafeBufferPointer<UInt8>) -> [UnsafeBufferPointer<UInt8>] {
        guard let base = run.baseAddress, let found = memchr(base + run.count / 2, 0x0A, run.count - run.count / 2) else { return [run] }
        let cut = UnsafePointer(found.assumingMemoryBound(to: UInt8.self)) - base + 1
        guard cut < run.count else { return [run] }
        return [UnsafeBufferPointer(rebasing: run[..<cut]), UnsafeBufferPointer(rebasing: run[cut...])]
    }

    /// What the JSON Lines bytes path reads on each line of each piece, a piece per thread, each
    /// with its own copy of `reader`: one entry per line, nil where the general path must read
    /// it. The pieces follow line `linesBefore` (only line 1's trimming depends on it).
    private static func jsonRows(of pieces: [UnsafeBufferPointer<UInt8>], after linesBefore: Int,
                                 reader: LongFormatJSONRow) -> [[Row?]] {
        var parsed = [[Row?]](repeating: [], count: pieces.count)
        parsed.withUnsafeMutableBufferPointer { buffer in
            // Each thread reads its own piece and writes only its own element, through the
            // buffer (no shared array is written); the pointers outlive the concurrent loop.
            nonisolated(unsafe) let (pieces, parsed) = (pieces, buffer)
            DispatchQueue.concurrentPerform(iterations: pieces.count) { index in
                var reader = reader
                var rows: [Row?] = []
                _ = LineReader.lines(in: pieces[index], after: linesBefore + (index == 0 ? 0 : 1)) { bytes, _ in
                    rows.append(reader.read(bytes))
                    return true
                }
                parsed[index] = rows
            }
        }
        return parsed
    }

    /// The row on a line the bytes path did not read, or nil for a line that holds none (blank,
    /// a comment, the provenance line, the CSV header, which sets `columnIndex`).
    private func readLine(_ text: String, file: String, place: String, columnIndex: inout [String: Int]?,
                          provenance: (TraceExport.Provenance) -> Void) throws -> Row? {
        if text.allSatisfy(\.isWhitespace) { return nil }
        if syntax == .csv, text.first == "#" {
            if let found = TraceExport.Provenance(csvComment: text) { provenance(found) }
            return nil
        }
        switch syntax {
        case .csv:
            let fields = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let index = columnIndex else {
                var index: [String: Int] = [:]
                for (i, name) in fields.enumerated() { index[name] = i }
                let missing = Self.columns.dropLast().filter { index[$0] == nil }
                guard missing.isEmpty else {
                    throw TraceStoreError(file: file, place: place, problem: "is a header without the column(s) \(missing.joined(separator: ", "))",
                                          fix: "The first line names the columns: \(Self.columns.joined(separator: ",")) (weight optional).")
                }
                columnIndex = index
                return nil
            }
            guard fields.count == index.count else {
                throw TraceStoreError(file: file, place: place, problem: "has \(fields.count) fields where the header has \(index.count)",
                                      fix: "Give each row exactly one value per header column (weight may be empty); a comma inside a value is not supported.")
            }
            return try parse(fields: { index[$0].map { fields[$0] } }, file: file, place: place)
        case .jsonl:
            guard let object = try JSONInput.parse(Data(text.utf8), file: file, place: place) as? [String: Any] else {
                throw TraceStoreError(file: file, place: place, problem: "is not a JSON object", fix: "Each line is one object with keys \(Self.columns.joined(separator: ", ")).")
            }
            if let found = TraceExport.Provenance(jsonObject: object) {
                provenance(found)
                return nil
            }
            for key in Self.numericColumns {
                if let text = object[key] as? String {
                    throw TraceStoreError(file: file, place: place, problem: "gives \(key) as the string \"\(text.prefix(40))\"",
                                          fix: "Write \(Self.numericColumns.joined(separator: ", ")) as JSON numbers (3, not \"3\").")
                }
            }
            return try parse(fields: { key in
                switch object[key] {
                case nil, is NSNull: return nil
                case let text as String: return text
                case let number as NSNumber: return number.stringValue
                case let other?: return "\(other)"
                }
            }, file: file, place: place)
        }
    }

    private func parse(fields: (String) -> String?, file: String, place: String) throws -> Row {
        func number(_ key: String) throws -> Int {
            guard let text = fields(key), let value = Int(text), value >= 0 else {
                throw TraceStoreError(file: file, place: place, problem: "has '\(fields(key) ?? "")' for \(key), not a non-negative integer",
                                      fix: "Columns token, layer, rank and expert hold integers.")
            }
            return value
        }
        guard let sequence = fields("sequence"), !sequence.isEmpty else {
            throw TraceStoreError(file: file, place: place, problem: "has no sequence", fix: "Every row names its sequence.")
        }
        guard let phaseText = fields("phase"), let phase = Phase(text: Substring(phaseText)) else {
            throw TraceStoreError(file: file, place: place, problem: "has phase '\(fields("phase") ?? "")'", fix: "Phase is prefill or decode (or 0 or 1).")
        }
        var weight: Double?
        if let text = fields("weight"), !text.isEmpty {
            guard let value = Double(text), value.isFinite else {
                throw TraceStoreError(file: file, place: place, problem: "has weight '\(text)', not a number", fix: "Leave weight empty where it is unknown.")
            }
            guard ValidRange.gateWeight.contains(Float(value)) else {
                throw TraceStoreError(file: file, place: place, problem: "has weight \(text); valid: \(ValidRange.text(ValidRange.gateWeight))",
                                      fix: "Gate weights are non-negative scores (softmax probabilities); store those, not logits.")
            }
            weight = value
        }
        return Row(sequence: sequence, token: try number("token"), phase: phase, layer: try number("layer"),
                   rank: try number("rank"), expert: try number("expert"), weight: weight)
    }

    func prepare() throws -> TraceMetadata {
        var maxLayer = 0, maxRank = 0, maxExpert = 0
        var withWeights = 0, withoutWeights = 0
        var exported: TraceExport.Provenance?
        // With a model the shape is known, and the first row says whether rows give weights:
        // `read` holds every row to both (LongFormatSequenceAssembly.add).
        let firstRowsOnly = options.model != nil
        var firstWeighted: Bool?
        try forEachRow(provenance: { exported = exported ?? $0 }, firstRowOnly: firstRowsOnly) { row, _, _ in
            maxLayer = max(maxLayer, row.layer)
            maxRank = max(maxRank, row.rank)
            maxExpert = max(maxExpert, row.expert)
            firstWeighted = firstWeighted ?? (row.weight != nil)
            if row.weight == nil { withoutWeights += 1 } else { withWeights += 1 }
        }
        guard firstRowsOnly || withWeights == 0 || withoutWeights == 0 else {
            throw TraceStoreError(file: inputs.joined(separator: ", "), problem: "gives weights on \(withWeights) rows and none on \(withoutWeights)",
                                  fix: "Give a weight on every row or on none.")
        }
        let hasWeights = firstWeighted ?? false
        var notes = "Imported from moesim's generic long format (\(syntax == .csv ? "CSV" : "JSON Lines"))."
        let shape: ModelShape
        if let preset = options.model {
            shape = preset.shape()
        } else {
            let experts = options.experts ?? (maxExpert + 1)
            guard maxExpert < experts else {
                throw TraceStoreError(file: inputs.joined(separator: ", "), problem: "routes to expert \(maxExpert) but --experts is \(experts)", fix: "Raise --experts.")
            }
            if options.experts == nil { notes += " Experts per layer (\(experts)) inferred from the largest id; pass --experts or --model to set it." }
            shape = ModelShape(name: "unknown", layers: maxLayer + 1, experts: experts, topK: maxRank + 1)
        }
        if let exported, exported.synthetic { notes += " " + Self.syntheticNote(exported) }
        return TraceMetadata(shape: shape, hasWeights: hasWeights, synthetic: exported?.synthetic ?? false,
                             source: inputs.map(lastComponent).joined(separator: ", "), notes: notes, importer: syntax == .csv ? "csv" : "jsonl")
    }

    func read(into sink: TraceSink, metadata: TraceMetadata) throws {
        // All of the assembly's state in one value: variables shared by the row closure and a
        // local function were boxed and checked for exclusive access at every use (~12% of
        // an import, in `perf record`); one captured value is checked statically.
        var sequences = LongFormatSequenceAssembly(shape: metadata.shape, withWeights: metadata.hasWeights, lenient: options.lenient)
        var exported: TraceExport.Provenance?
        try forEachRow(provenance: { exported = exported ?? $0 }) { row, file, line in try sequences.add(row, file: file, line: line, into: sink) }
        try sequences.flush(into: sink)
        // A provenance line after an input's first row, which a single pass (`--model`) did not
        // see before writing began, labels the trace as a whole pass would have.
        if let exported, exported.synthetic, !metadata.synthetic { sink.markSynthetic(Self.syntheticNote(exported)) }
    }

    /// The note a trace imported from a synthetic trace's export carries.
    private static func syntheticNote(_ exported: TraceExport.Provenance) -> String {
        "Exported by moesim from a synthetic trace (\(exported.source)); the routing is synthetic."
    }
}
