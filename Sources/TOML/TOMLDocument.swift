/// A parsed TOML file as a flat map from dotted key paths ("bus.bandwidth_gbps") to
/// values with the line each was written on, so that readers can name the line of a
/// key they reject.
///
/// Supports the subset of TOML v1.0.0 (toml.io) that moesim's hardware profiles,
/// policies and sweep specs use: `[table]` headers with dotted and quoted keys, dotted
/// keys on the left of `=`, basic and literal strings, integers with `_`, floats
/// (exponents, `inf`, `nan`), booleans, arrays over several lines, and comments.
/// Arrays of tables, inline tables, dates, multi-line strings and arrays nested more than
/// 32 deep are refused with an error that says so. Parsing is O(n) in the text's length.
public struct TOMLDocument: Sendable {
    /// One key's value and where it was written.
    public struct Entry: Sendable, Equatable {
        /// The value.
        public var value: TOMLValue
        /// 1-based line number of the key.
        public var line: Int
    }

    /// Every key, by its full dotted path.
    public private(set) var entries: [String: Entry] = [:]
    /// Table headers seen, by dotted path, with their lines.
    public private(set) var tables: [String: Int] = [:]

    /// Parses `text`; throws ``TOMLError`` with the line and column of the first problem.
    public init(parsing text: String) throws {
        var parser = TOMLParser(text: Array(text.utf8))
        try parser.parse { path, value, line in
            let key = path.joined(separator: ".")
            guard entries[key] == nil, tables[key] == nil else {
                throw TOMLError(line: line, column: 1, message: "key '\(key)' is defined twice (first on line \((entries[key]?.line ?? tables[key])!))")
            }
            entries[key] = Entry(value: value, line: line)
        } table: { path, line in
            let key = path.joined(separator: ".")
            guard tables[key] == nil, entries[key] == nil else {
                throw TOMLError(line: line, column: 1, message: "table [\(key)] is defined twice")
            }
            tables[key] = line
        }
    }

    /// The entry at `path`, or nil.
    public subscript(path: String) -> Entry? { entries[path] }

    /// Keys directly or indirectly under table `prefix` ("" for all), sorted.
    public func keys(under prefix: String) -> [String] {
        let start = prefix.isEmpty ? "" : prefix + "."
        return entries.keys.filter { $0.hasPrefix(start) }.sorted()
    }
}

/// A TOML syntax error, with its 1-based line and column.
public struct TOMLError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based line.
    public var line: Int
    /// 1-based column (in bytes).
    public var column: Int
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "line \(line), column \(column): \(message)" }
}
