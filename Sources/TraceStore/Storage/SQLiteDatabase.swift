import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thin, owning wrapper over one `sqlite3` connection.
///
/// Only what moesim needs: open, execute, prepare, transactions. Errors carry the
/// file path and SQLite's own message, so that they can be shown to the user as is.
public final class SQLiteDatabase {
    /// How to open the file.
    public enum Mode: Sendable {
        /// Read only; the file must exist.
        case readOnly
        /// Read and write; the file is created if missing.
        case readWriteCreate
    }

    /// The path the connection was opened on.
    public let path: String
    @usableFromInline let handle: OpaquePointer

    /// Opens `path`. Throws a ``TraceStoreError`` naming the file when SQLite cannot.
    public init(path: String, mode: Mode) throws {
        self.path = path
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw TraceStoreError(file: path, problem: "is a folder, not a trace or results file", fix: "Pass the .sqlite file itself.")
        }
        var db: OpaquePointer?
        let flags: Int32
        switch mode {
        case .readOnly: flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
        case .readWriteCreate: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        }
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw TraceStoreError(
                file: path, problem: "cannot open as an SQLite database (\(message))",
                fix: "Check that the path exists and is a moesim trace or results file.")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        // Another process may be writing (a sweep being watched or resumed): wait for its lock.
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs one or more SQL statements that return no rows.
    public func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? lastErrorMessage
            sqlite3_free(errorMessage)
            throw error(rc, message: message, sql: sql)
        }
    }

    /// Compiles `sql` into a reusable statement.
    public func prepare(_ sql: String) throws -> SQLiteStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw error(rc, message: lastErrorMessage, sql: sql)
        }
        return SQLiteStatement(database: self, handle: statement)
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The rowid of the last inserted row on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    var lastErrorMessage: String { String(cString: sqlite3_errmsg(handle)) }

    func error(_ rc: Int32, message: String, sql: String? = nil) -> TraceStoreError {
        let primary = rc & 0xff
        let fix: String
        switch primary {
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            fix = "The file is damaged or not an SQLite database; re-create it (for a trace, run `moesim trace import` again)."
        case SQLITE_FULL:
            fix = "The disk is full; free space and retry."
        case SQLITE_BUSY, SQLITE_LOCKED:
            fix = "Another process holds the database; wait for it to finish and retry."
        case SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM:
            fix = "Check the file's permissions and that its folder exists."
        default:
            fix = "This is SQLite's own message; if the file came from moesim, re-create it."
        }
        let context = sql.map { " in `\($0.prefix(60))`" } ?? ""
        return TraceStoreError(file: path, problem: "SQLite error \(rc): \(message)\(context)", fix: fix)
    }
}
