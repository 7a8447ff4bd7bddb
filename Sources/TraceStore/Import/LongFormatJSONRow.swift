#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a data row of the generic long format's JSON Lines straight from its bytes: an
/// object of exactly the long format's keys, each once, whose values are ASCII strings without
/// escapes (`sequence`, `phase`), integers (`token`, `layer`, `rank`, `expert`: JSON's grammar,
/// no fraction or exponent) and a number without exponent or null (`weight`, which may also be
/// absent), with JSON's blanks between tokens. Any other line (escapes, other keys, nested
/// values, a number given as a string, the provenance line) returns nil and goes through
/// Foundation's JSONSerialization, which reads it the same way or reports the error — so this
/// path changes the speed of an import, not its outcome (JSONSerialization took ~20 µs a row).
/// O(bytes of the row), no allocation for a row of the current sequence.
struct LongFormatJSONRow {
    private var sequenceName = SequenceNameCache()

    /// A JSON value's bytes in the line, and what kind of value it is.
    private enum Value {
        case string(Range<Int>)
        case number(Range<Int>, integer: Bool)
        case null
    }

    /// The row in `line`, or nil when the general path must read it.
    mutating func read(_ line: UnsafeBufferPointer<UInt8>) -> LongFormatImporter.Row? {
        guard let base = line.baseAddress else { return nil }
        var scan = Scanner(base: base, end: line.count)
        scan.skipBlanks()
        guard scan.take(0x7B) else { return nil }  // {
        var values = Values()
        repeat {
            scan.skipBlanks()
            guard case .string(let key)? = scan.string() else { return nil }
            scan.skipBlanks()
            guard scan.take(0x3A) else { return nil }  // :
            scan.skipBlanks()
            guard let value = scan.value(), values.store(value, key: key, base) else { return nil }
            scan.skipBlanks()
        } while scan.take(0x2C)  // ,
        guard scan.take(0x7D) else { return nil }  // }
        scan.skipBlanks()
        guard scan.atEnd,
              case .string(let sequence)? = values.sequence, sequence.count > 0,
              case .string(let phaseText)? = values.phase, let phase = TextFields.phase(base, phaseText),
              let token = Self.integer(values.token, base), let layer = Self.integer(values.layer, base),
              let rank = Self.integer(values.rank, base), let expert = Self.integer(values.expert, base) else { return nil }
        var weight: Double?
        switch values.weight {
        case nil, .null?: break
        case .number(let text, _)?:
            guard let value = TextFields.double(UnsafeBufferPointer(start: base + text.lowerBound, count: text.count)),
                  value.isFinite, ValidRange.gateWeight.contains(Float(value)) else { return nil }
            weight = value
        case .string?: return nil
        }
        return LongFormatImporter.Row(sequence: sequenceName.name(base, sequence), token: token, phase: phase, layer: layer,
                                      rank: rank, expert: expert, weight: weight)
    }

    /// The row's values by key (in locals, not an array: no allocation per row).
    private struct Values {
        var sequence, token, phase, layer, rank, expert, weight: Value?

        /// Files `value` under the key in `base[key]`; false for another key or one given twice.
        mutating func store(_ value: Value, key: Range<Int>, _ base: UnsafePointer<UInt8>) -> Bool {
            func fill(_ slot: inout Value?) -> Bool {
                guard slot == nil else { return false }
                slot = value
                return true
            }
            let start = base + key.lowerBound
            switch key.count {
            case 4 where memcmp(start, "rank", 4) == 0: return fill(&rank)
            case 5 where memcmp(start, "token", 5) == 0: return fill(&token)
            case 5 where memcmp(start, "phase", 5) == 0: return fill(&phase)
            case 5 where memcmp(start, "layer", 5) == 0: return fill(&layer)
            case 6 where memcmp(start, "expert", 6) == 0: return fill(&expert)
            case 6 where memcmp(start, "weight", 6) == 0: return fill(&weight)
            case 8 where memcmp(start, "sequence", 8) == 0: return fill(&sequence)
            default: return false
            }
        }
    }

    /// The non-negative integer a value holds, or nil.
    private static func integer(_ value: Value?, _ base: UnsafePointer<UInt8>) -> Int? {
        guard case .number(let text, integer: true)? = value else { return nil }
        return TextFields.int(base, text)
    }

    /// A cursor over one line's bytes.
    private struct Scanner {
        let base: UnsafePointer<UInt8>
        let end: Int
        var position = 0

        init(base: UnsafePointer<UInt8>, end: Int) {
            (self.base, self.end) = (base, end)
        }

        var atEnd: Bool { position == end }

        /// Steps over JSON's blanks: space, tab, carriage return, line feed (all at or below
        /// 0x20, so one comparison passes over any other byte).
        @inline(__always)
        mutating func skipBlanks() {
            while position < end, base[position] <= 0x20,
                  base[position] == 0x20 || base[position] == 0x09 || base[position] == 0x0D || base[position] == 0x0A {
                position += 1
            }
        }

        /// Steps over `byte` if it comes next.
        mutating func take(_ byte: UInt8) -> Bool {
            guard position < end, base[position] == byte else { return false }
            position += 1
            return true
        }

        /// The value that starts here, or nil when it is none of those this path reads.
        mutating func value() -> Value? {
            guard position < end else { return nil }
            switch base[position] {
            case 0x22: return string()
            case 0x6E:  // null
                guard end - position >= 4, memcmp(base + position, "null", 4) == 0 else { return nil }
                position += 4
                return .null
            default: return number()
            }
        }

        /// A string of printable ASCII without escapes: its content's bytes.
        mutating func string() -> Value? {
            guard take(0x22) else { return nil }
            let start = position
            // Eight bytes at a time: the first quote, and whether a byte before it is a
            // backslash, a control character (below 0x20: its top three bits clear) or
            // non-ASCII, each found as the zero bytes of a word (TextFields.zeroBytes).
            let raw = UnsafeRawPointer(base)
            while position + 8 <= end {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                let quotes = TextFields.zeroBytes(word ^ 0x2222_2222_2222_2222)
                let refused = TextFields.zeroBytes(word ^ 0x5C5C_5C5C_5C5C_5C5C) | TextFields.zeroBytes(word & 0xE0E0_E0E0_E0E0_E0E0)
                    | (word & 0x8080_8080_8080_8080)
                if quotes != 0 {
                    // Every bit below the first quote's mark: the bytes before it.
                    guard refused & ((quotes & (~quotes &+ 1)) &- 1) == 0 else { return nil }
                    position += (quotes.trailingZeroBitCount >> 3) + 1
                    return .string(start..<position - 1)
                }
                guard refused == 0 else { return nil }
                position += 8
            }
            while position < end {
                let byte = base[position]
                if byte == 0x22 {
                    position += 1
                    return .string(start..<position - 1)
                }
                // Printable ASCII (0x20-0x7F) and no escape.
                guard byte &- 0x20 < 0x60, byte != 0x5C else { return nil }
                position += 1
            }
            return nil
        }

        /// A number in JSON's grammar without exponent: -?(0|[1-9][0-9]*)(.[0-9]+)?
        mutating func number() -> Value? {
            let start = position
            _ = take(0x2D)
            let digits = position
            while position < end, base[position] &- 0x30 < 10 { position += 1 }
            guard position > digits, base[digits] != 0x30 || position == digits + 1 else { return nil }
            var integer = base[start] != 0x2D
            if take(0x2E) {
                let fraction = position
                while position < end, base[position] &- 0x30 < 10 { position += 1 }
                guard position > fraction else { return nil }
                integer = false
            }
            if position < end, base[position] | 0x20 == 0x65 { return nil }  // e, E: strtod's path
            return .number(start..<position, integer: integer)
        }
    }
}
