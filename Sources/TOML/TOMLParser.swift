import Foundation

/// A recursive-descent reader over TOML's UTF-8 bytes (see ``TOMLDocument`` for the
/// subset). It reports each key/value pair and table header through callbacks.
struct TOMLParser {
    private let text: [UInt8]
    private var position = 0
    private var line = 1
    private var lineStart = 0
    private var currentTable: [String] = []
    /// Arrays open around the value being read.
    private var arrayDepth = 0

    /// The deepest nesting of arrays read: moesim's files nest at most two deep, and the
    /// reader recurses once per level, so a deeper file (a fuzzer's) would exhaust the stack.
    static let maximumArrayDepth = 32

    init(text: [UInt8]) { self.text = text }

    mutating func parse(
        value emit: (_ path: [String], _ value: TOMLValue, _ line: Int) throws -> Void,
        table header: (_ path: [String], _ line: Int) throws -> Void
    ) throws {
        while true {
            skipBlank(newlines: true)
            guard let byte = peek else { return }
            let keyLine = line
            if byte == UInt8(ascii: "[") {
                advance()
                if peek == UInt8(ascii: "[") { throw error("arrays of tables ([[…]]) are not supported") }
                skipBlank(newlines: false)
                let path = try key()
                skipBlank(newlines: false)
                try expect("]")
                currentTable = path
                try header(path, keyLine)
            } else {
                let path = try key()
                skipBlank(newlines: false)
                try expect("=")
                skipBlank(newlines: false)
                let parsed = try value()
                try emit(currentTable + path, parsed, keyLine)
            }
            try endOfLine()
        }
    }

    // MARK: Keys

    private mutating func key() throws -> [String] {
        var parts = [try simpleKey()]
        while true {
            skipBlank(newlines: false)
            guard peek == UInt8(ascii: ".") else { return parts }
            advance()
            skipBlank(newlines: false)
            parts.append(try simpleKey())
        }
    }

    private mutating func simpleKey() throws -> String {
        switch peek {
        case UInt8(ascii: "\""): return try basicString()
        case UInt8(ascii: "'"): return try literalString()
        default:
            let start = position
            while let byte = peek, Self.isBareKeyByte(byte) { advance() }
            guard position > start else { throw error("expected a key") }
            return String(decoding: text[start..<position], as: UTF8.self)
        }
    }

    private static func isBareKeyByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    // MARK: Values

    private mutating func value() throws -> TOMLValue {
        guard let byte = peek else { throw error("expected a value after '='") }
        switch byte {
        case UInt8(ascii: "\""):
            if starts(with: "\"\"\"") { throw error("multi-line strings are not supported") }
            return .string(try basicString())
        case UInt8(ascii: "'"):
            if starts(with: "'''") { throw error("multi-line strings are not supported") }
            return .string(try literalString())
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "{"): throw error("inline tables are not supported; use a [table] header")
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            if starts(with: "true") { position += 4; return .bool(true) }
            if starts(with: "false") { position += 5; return .bool(false) }
            throw error("expected a value (true, false, a number, a \"string\" or an [array])")
        default: return try number()
        }
    }

    private mutating func array() throws -> TOMLValue {
        guard arrayDepth < Self.maximumArrayDepth else { throw error("arrays are nested more than \(Self.maximumArrayDepth) deep") }
        arrayDepth += 1
        defer { arrayDepth -= 1 }
        advance()
        var values: [TOMLValue] = []
        while true {
            skipBlank(newlines: true)
            if peek == UInt8(ascii: "]") { advance(); return .array(values) }
            values.append(try value())
            skipBlank(newlines: true)
            if peek == UInt8(ascii: ",") { advance(); continue }
            skipBlank(newlines: true)
            guard peek == UInt8(ascii: "]") else { throw error("expected ',' or ']' in an array") }
        }
    }

    private mutating func number() throws -> TOMLValue {
        let start = position
        while let byte = peek, !Self.endsValue(byte) { advance() }
        let raw = String(decoding: text[start..<position], as: UTF8.self)
        let token = raw.replacingOccurrences(of: "_", with: "")
        switch token {
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if raw.contains("__") || raw.hasPrefix("_") || raw.hasSuffix("_") {
            throw error("'\(raw)' is not a number (underscores go between digits)", at: start)
        }
        if let integer = Int(token) { return .integer(integer) }
        if token.contains(where: { ".eE".contains($0) }), let float = Double(token), token.last?.isNumber == true {
            return .float(float)
        }
        if token.isEmpty { throw error("expected a value", at: start) }
        throw error("'\(raw)' is not a TOML value (strings need quotes)", at: start)
    }

    private static func endsValue(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "#")
            || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    private mutating func basicString() throws -> String {
        let openedAt = position
        advance()
        var bytes: [UInt8] = []
        while true {
            guard let byte = peek, byte != UInt8(ascii: "\n") else { throw error("string is not closed on its line", at: openedAt) }
            advance()
            if byte == UInt8(ascii: "\"") { return String(decoding: bytes, as: UTF8.self) }
            guard byte == UInt8(ascii: "\\") else { bytes.append(byte); continue }
            guard let escaped = peek else { throw error("string is not closed on its line", at: openedAt) }
            advance()
            switch escaped {
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(escaped)
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let digits = escaped == UInt8(ascii: "u") ? 4 : 8
                guard position + digits <= text.count,
                      let code = UInt32(String(decoding: text[position..<position + digits], as: UTF8.self), radix: 16),
                      let scalar = Unicode.Scalar(code)
                else { throw error("bad \\u escape") }
                position += digits
                bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: throw error("unknown escape '\\\(Character(Unicode.Scalar(escaped)))'")
            }
        }
    }

    private mutating func literalString() throws -> String {
        let openedAt = position
        advance()
        let start = position
        while let byte = peek, byte != UInt8(ascii: "'") {
            guard byte != UInt8(ascii: "\n") else { throw error("string is not closed on its line", at: openedAt) }
            advance()
        }
        guard peek != nil else { throw error("string is not closed on its line", at: openedAt) }
        let content = String(decoding: text[start..<position], as: UTF8.self)
        advance()
        return content
    }

    // MARK: Layout

    private var peek: UInt8? { position < text.count ? text[position] : nil }

    private mutating func advance() { position += 1 }

    private func starts(with literal: String) -> Bool {
        let bytes = Array(literal.utf8)
        return position + bytes.count <= text.count && Array(text[position..<position + bytes.count]) == bytes
    }

    private mutating func expect(_ character: Character) throws {
        guard let byte = peek, byte == character.asciiValue! else { throw error("expected '\(character)'") }
        advance()
    }

    /// Skips spaces, tabs and comments; with `newlines`, blank lines too.
    private mutating func skipBlank(newlines: Bool) {
        while let byte = peek {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") {
                advance()
            } else if byte == UInt8(ascii: "#") {
                while let next = peek, next != UInt8(ascii: "\n") { _ = next; advance() }
            } else if byte == UInt8(ascii: "\n") && newlines {
                advance()
                line += 1
                lineStart = position
            } else {
                return
            }
        }
    }

    private mutating func endOfLine() throws {
        skipBlank(newlines: false)
        guard let byte = peek else { return }
        guard byte == UInt8(ascii: "\n") else { throw error("unexpected text after the value (one key = value per line)") }
    }

    private func error(_ message: String, at offset: Int? = nil) -> TOMLError {
        TOMLError(line: line, column: (offset ?? position) - lineStart + 1, message: message)
    }
}
