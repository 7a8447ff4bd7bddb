/// A TOML file that cannot be used: the file, the 1-based line (0 when the problem is a
/// missing key) and what is wrong — the one error every moesim file reader throws.
public struct TOMLFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// 1-based line, or 0.
    public var line: Int
    /// What is wrong.
    public var problem: String

    /// Creates an error.
    public init(file: String, line: Int, problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String { "\(file)\(line > 0 ? ":\(line)" : ""): \(problem)" }
}

extension TOMLDocument {
    /// Parses the file `file` holding `text` and refuses keys outside `allowed` (see
    /// ``rejectUnknownKeys(allowed:)``); every problem is a ``TOMLFileError`` with its line.
    public init(parsing text: String, file: String, allowed: [String]) throws {
        do {
            try self.init(parsing: text)
            try rejectUnknownKeys(allowed: allowed)
        } catch let error as TOMLError {
            throw TOMLFileError(file: file, line: error.line, problem: error.message)
        }
    }

    /// Reads `key` with one of the typed accessors (`document.number`, …), turning a type
    /// error into a ``TOMLFileError`` of `file`.
    public func read<T>(_ key: String, file: String, _ accessor: (String) throws -> T?) throws -> T? {
        do { return try accessor(key) } catch let error as TOMLError {
            throw TOMLFileError(file: file, line: error.line, problem: error.message)
        }
    }

    /// The line of `key`, or 0 when it is absent.
    public func line(of key: String) -> Int { entries[key]?.line ?? 0 }
}
