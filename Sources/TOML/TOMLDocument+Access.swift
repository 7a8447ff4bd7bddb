extension TOMLDocument {
    /// The number at `key` (integers widen), nil when absent; a ``TOMLError`` on the
    /// key's line when it holds another type.
    public func number(_ key: String) throws -> Double? {
        guard let entry = entries[key] else { return nil }
        guard let value = entry.value.number else { throw typeError(key, entry, expected: "a number") }
        return value
    }

    /// The number at `key` checked against `range` (finite): nil when absent, an error naming
    /// the line, the value and the range otherwise.
    public func number(_ key: String, in range: ClosedRange<Double>, rangeText: String) throws -> Double? {
        guard let value = try number(key) else { return nil }
        guard value.isFinite, range.contains(value) else {
            throw TOMLError(line: entries[key]!.line, column: 1, message: "'\(key)' is \(value); valid: \(rangeText)")
        }
        return value
    }

    /// The integer at `key` checked against `range`: nil when absent, an error naming the line,
    /// the value and the range otherwise.
    public func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = try integer(key) else { return nil }
        guard range.contains(value) else {
            throw TOMLError(line: entries[key]!.line, column: 1, message: "'\(key)' is \(value); valid: \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    /// The integer at `key`, nil when absent; an error when it is not an integer.
    public func integer(_ key: String) throws -> Int? {
        guard let entry = entries[key] else { return nil }
        guard case .integer(let value) = entry.value else { throw typeError(key, entry, expected: "an integer") }
        return value
    }

    /// The string at `key`, nil when absent; an error when it is not a string.
    public func string(_ key: String) throws -> String? {
        guard let entry = entries[key] else { return nil }
        guard case .string(let value) = entry.value else { throw typeError(key, entry, expected: "a string") }
        return value
    }

    /// The boolean at `key`, nil when absent; an error when it is not a boolean.
    public func bool(_ key: String) throws -> Bool? {
        guard let entry = entries[key] else { return nil }
        guard case .bool(let value) = entry.value else { throw typeError(key, entry, expected: "true or false") }
        return value
    }

    /// The array of numbers at `key`, nil when absent; an error naming the line otherwise.
    public func numbers(_ key: String) throws -> [Double]? {
        guard let entry = entries[key] else { return nil }
        guard case .array(let values) = entry.value else { throw typeError(key, entry, expected: "an array of numbers") }
        return try values.map { value in
            guard let number = value.number else { throw typeError(key, entry, expected: "an array of numbers") }
            return number
        }
    }

    /// Throws on the first key (in line order) that is not in `allowed`, listing the valid keys.
    ///
    /// A key is allowed when it equals an entry of `allowed` or lies under an allowed
    /// table prefix written as "name.*".
    public func rejectUnknownKeys(allowed: [String]) throws {
        let exact = Set(allowed.filter { !$0.hasSuffix(".*") })
        let prefixes = allowed.filter { $0.hasSuffix(".*") }.map { String($0.dropLast(1)) }
        let unknown = entries.filter { key, _ in !exact.contains(key) && !prefixes.contains { key.hasPrefix($0) } }
        guard let (key, entry) = unknown.min(by: { $0.value.line < $1.value.line }) else { return }
        throw TOMLError(line: entry.line, column: 1, message: "unknown key '\(key)'; valid keys: \(allowed.joined(separator: ", "))")
    }

    private func typeError(_ key: String, _ entry: Entry, expected: String) -> TOMLError {
        TOMLError(line: entry.line, column: 1, message: "'\(key)' must be \(expected), not \(entry.value.typeName) \(entry.value)")
    }
}
