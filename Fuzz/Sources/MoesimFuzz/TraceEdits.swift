import TraceStore

/// The `trace-meta` target's input: edits to a trace's small tables as 10-byte records,
/// `field u8 | row u8 | value i64 (little-endian)`, so that libFuzzer's integer mutations
/// reach every magnitude. `field` (mod the list below) picks a numeric `meta` key (the value
/// written as decimal text; `row` unused) or a column of `layers`, `sequences` or `chunks`
/// (`row` picks the row; the value 0x7fff_ffff_ffff_fffe stands for NULL). Values are bound
/// as parameters: table and column names come from this list, never from the input.
enum TraceEdits {
    private static let metaKeys = [
        "format_version", "layers", "experts", "top_k", "native_top_k", "shared_experts", "hidden_size",
        "expert_intermediate_size", "has_weights", "synthetic", "tokens", "prefill_tokens", "decode_tokens",
        "sequences", "chunks", "chunk_tokens", "prediction_width", "absent_decisions", "prediction_lookaheads",
    ]
    private static let columns: [(table: String, key: String, column: String)] = [
        ("layers", "layer", "model_layer"), ("layers", "layer", "expert_bytes"), ("layers", "layer", "dense_bytes"),
        ("sequences", "id", "prefill_tokens"), ("sequences", "id", "decode_tokens"), ("sequences", "id", "first_chunk"),
        ("chunks", "id", "first_sequence"), ("chunks", "id", "tokens"), ("predictions", "chunk", "width"),
        ("predictions", "chunk", "lookahead"),
    ]
    private static let null = Int64.max - 1
    private static var fields: Int { metaKeys.count + columns.count }

    /// Applies the edits in `input` to the trace at `path` (at most 64 records).
    static func apply(_ input: [UInt8], to path: String) throws {
        let database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
        var offset = 0
        while offset + 10 <= input.count, offset < 640 {
            let field = Int(input[offset]) % fields, row = Int(input[offset + 1])
            let value = (0..<8).reduce(Int64(0)) { $0 | Int64(input[offset + 2 + $1]) << (8 * $1) }
            offset += 10
            if field < metaKeys.count {
                let update = try database.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")
                try update.bind(1, metaKeys[field])
                try update.bind(2, String(value))
                try update.run()
            } else {
                let (table, key, column) = columns[field - metaKeys.count]
                let update = try database.prepare("UPDATE \(table) SET \(column) = ? WHERE \(key) = ?")
                if value == null { try update.bindNull(1) } else { try update.bind(1, value) }
                try update.bind(2, row)
                try update.run()
            }
        }
    }

    /// Records that set every field of the trace at `path` to the value it has (the seed
    /// libFuzzer mutates from).
    static func describe(_ path: String) throws -> [UInt8] {
        let database = try SQLiteDatabase(path: path, mode: .readOnly)
        var records: [UInt8] = []
        func record(_ field: Int, _ row: Int, _ value: Int64) {
            records += [UInt8(field), UInt8(truncatingIfNeeded: row)] + (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
        }
        for (i, key) in metaKeys.enumerated() {
            let select = try database.prepare("SELECT value FROM meta WHERE key = ?")
            try select.bind(1, key)
            if try select.step(), let value = Int64(select.text(0)) { record(i, 0, value) }
        }
        for (i, (table, key, column)) in columns.enumerated() {
            let rows = try database.prepare("SELECT \(key), \(column) FROM \(table) ORDER BY \(key)")
            while try rows.step() { record(metaKeys.count + i, rows.int(0), rows.isNull(1) ? null : rows.int64(1)) }
        }
        return records
    }
}
