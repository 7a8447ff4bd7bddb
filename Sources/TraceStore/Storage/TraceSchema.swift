/// The SQL schema of a trace file, format version 3 (traces/FORMAT.md); versions 1 and 2
/// lack the `checksum` columns.
enum TraceSchema {
    /// SQLite page size: large pages keep the overflow-page overhead of ~100 KB blobs small.
    static let pageSize = 16_384

    static let create = """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE layers (
            layer INTEGER PRIMARY KEY,
            model_layer INTEGER NOT NULL,
            expert_bytes INTEGER,
            dense_bytes INTEGER
        );
        CREATE TABLE sequences (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            prefill_tokens INTEGER NOT NULL,
            decode_tokens INTEGER NOT NULL,
            first_chunk INTEGER NOT NULL
        );
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            first_sequence INTEGER NOT NULL,
            tokens INTEGER NOT NULL,
            routing BLOB NOT NULL,
            weights BLOB,
            checksum INTEGER
        );
        CREATE TABLE predictions (
            chunk INTEGER NOT NULL,
            lookahead INTEGER NOT NULL,
            width INTEGER NOT NULL,
            data BLOB NOT NULL,
            checksum INTEGER,
            PRIMARY KEY (chunk, lookahead)
        ) WITHOUT ROWID;
        """
}
