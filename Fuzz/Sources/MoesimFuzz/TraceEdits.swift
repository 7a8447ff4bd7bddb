import TraceStore

/// The `trace-meta` target's input: edits to a trace's small tables, one per line, applied
/// with bound parameters (the table and column names come from this list, never the input):
///
///     meta.KEY=VALUE
///     layer.I=MODEL_LAYER,EXPERT_BYTES,DENSE_BYTES      (an empty field is NULL)
///     sequence.I=PREFILL,DECODE,FIRST_CHUNK
///     chunk.I=FIRST_SEQUENCE,TOKENS
///     delete.TABLE.I                                    (TABLE: layer, sequence, chunk)
enum TraceEdits {
    private static let tables = [
        "layer": ("layers", "layer", ["model_layer", "expert_bytes", "dense_bytes"]),
        "sequence": ("sequences", "id", ["prefill_tokens", "decode_tokens", "first_chunk"]),
        "chunk": ("chunks", "id", ["first_sequence", "tokens"]),
    ]

    /// Applies the edits in `text` to the trace at `path`; malformed lines are skipped.
    static func apply(_ text: String, to path: String) throws {
        let database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
        for line in text.split(separator: "\n").prefix(200) {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let target = parts[0].split(separator: ".", maxSplits: 2)
            guard target.count >= 2 else { continue }
            if target[0] == "meta", parts.count == 2 {
                let update = try database.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")
                try update.bind(1, String(target[1]))
                try update.bind(2, String(parts[1]))
                try update.run()
            } else if target[0] == "delete", target.count == 3, let (table, key, _) = tables[String(target[1])], let row = Int(target[2]) {
                let delete = try database.prepare("DELETE FROM \(table) WHERE \(key) = ?")
                try delete.bind(1, row)
                try delete.run()
            } else if let (table, key, columns) = tables[String(target[0])], let row = Int(target[1]), parts.count == 2 {
                let values = parts[1].split(separator: ",", omittingEmptySubsequences: false)
                guard values.count == columns.count else { continue }
                let assignments = columns.map { "\($0) = ?" }.joined(separator: ", ")
                let update = try database.prepare("UPDATE \(table) SET \(assignments) WHERE \(key) = ?")
                for (i, value) in values.enumerated() {
                    if let number = Int64(value) { try update.bind(Int32(i + 1), number) } else { try update.bindNull(Int32(i + 1)) }
                }
                try update.bind(Int32(columns.count + 1), row)
                try update.run()
            }
        }
    }

    /// The rows of the trace at `path` as edits that reproduce them (the seed).
    static func describe(_ path: String) throws -> String {
        let database = try SQLiteDatabase(path: path, mode: .readOnly)
        var lines: [String] = []
        let meta = try database.prepare("SELECT key, value FROM meta ORDER BY key")
        while try meta.step() { lines.append("meta.\(meta.text(0))=\(meta.text(1))") }
        for name in tables.keys.sorted() {
            let (table, key, columns) = tables[name]!
            let rows = try database.prepare("SELECT \(key), \(columns.joined(separator: ", ")) FROM \(table) ORDER BY \(key)")
            while try rows.step() {
                let values = (1...columns.count).map { rows.isNull(Int32($0)) ? "" : String(rows.int(Int32($0))) }
                lines.append("\(name).\(rows.int(0))=\(values.joined(separator: ","))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
