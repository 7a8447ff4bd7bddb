import CSQLite

/// One prepared SQLite statement: bind parameters (1-based), step, read columns (0-based).
///
/// Reading blobs through ``withBlob(_:_:)`` hands out SQLite's own buffer without a
/// copy; it is valid only inside the closure.
public final class SQLiteStatement {
    unowned let database: SQLiteDatabase
    let handle: OpaquePointer

    init(database: SQLiteDatabase, handle: OpaquePointer) {
        self.database = database
        self.handle = handle
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Resets the statement so it can run again; bindings are cleared.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds an integer to parameter `index` (1-based).
    public func bind(_ index: Int32, _ value: Int64) throws {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    /// Binds an integer to parameter `index` (1-based).
    public func bind(_ index: Int32, _ value: Int) throws {
        try bind(index, Int64(value))
    }

    /// Binds a double to parameter `index` (1-based).
    public func bind(_ index: Int32, _ value: Double) throws {
        try check(sqlite3_bind_double(handle, index, value))
    }

    /// Binds text to parameter `index` (1-based).
    public func bind(_ index: Int32, _ value: String) throws {
        try check(sqlite3_bind_text(handle, index, value, -1, moesim_sqlite_transient()))
    }

    /// Binds a blob (copied by SQLite) to parameter `index` (1-based).
    public func bind(_ index: Int32, _ value: [UInt8]) throws {
        try value.withUnsafeBytes { raw in
            try check(sqlite3_bind_blob64(handle, index, raw.baseAddress, sqlite3_uint64(raw.count), moesim_sqlite_transient()))
        }
    }

    /// Binds SQL NULL to parameter `index` (1-based).
    public func bindNull(_ index: Int32) throws {
        try check(sqlite3_bind_null(handle, index))
    }

    /// Advances to the next row; `false` when the statement is done.
    public func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw database.error(rc, message: database.lastErrorMessage, sql: sql)
        }
    }

    /// Runs a statement that returns no rows, then resets it for reuse.
    public func run() throws {
        defer { reset() }
        _ = try step()
    }

    /// Runs a statement that returns no rows with `blobs` bound to their parameters (1-based)
    /// without SQLite copying them (`SQLITE_STATIC`: a blob need only outlive the step), then
    /// binds NULL in their place, so the statement keeps no pointer into them, and resets it.
    /// The other parameters are bound before. A trace's chunks are most of its bytes, and a
    /// copy of each on binding was a third of the writer's memory traffic.
    public func run(borrowing blobs: ArraySlice<(index: Int32, bytes: [UInt8])>) throws {
        guard let (index, bytes) = blobs.first else { return try run() }
        try bytes.withUnsafeBytes { raw in
            defer { sqlite3_bind_null(handle, index) }
            try check(sqlite3_bind_blob64(handle, index, raw.baseAddress, sqlite3_uint64(raw.count), nil))
            try run(borrowing: blobs.dropFirst())
        }
    }

    /// Whether column `index` of the current row is NULL.
    public func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    /// Column `index` of the current row as an integer.
    public func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    /// Column `index` of the current row as an `Int`.
    public func int(_ index: Int32) -> Int { Int(sqlite3_column_int64(handle, index)) }

    /// Column `index` of the current row as a double.
    public func double(_ index: Int32) -> Double { sqlite3_column_double(handle, index) }

    /// Column `index` of the current row as text ("" for NULL).
    public func text(_ index: Int32) -> String {
        guard let cString = sqlite3_column_text(handle, index) else { return "" }
        return String(cString: cString)
    }

    /// Calls `body` with column `index`'s bytes, without copying; empty for NULL.
    public func withBlob<T>(_ index: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let pointer = sqlite3_column_blob(handle, index)
        let count = Int(sqlite3_column_bytes(handle, index))
        return try body(UnsafeRawBufferPointer(start: pointer, count: pointer == nil ? 0 : count))
    }

    /// Column `index` of the current row as a copied byte array.
    public func blob(_ index: Int32) -> [UInt8] {
        withBlob(index) { Array($0) }
    }

    private var sql: String { String(cString: sqlite3_sql(handle)) }

    private func check(_ rc: Int32) throws {
        if rc != SQLITE_OK { throw database.error(rc, message: database.lastErrorMessage, sql: sql) }
    }
}
