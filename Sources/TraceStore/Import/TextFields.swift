#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-level parsing of the numeric fields of text traces: fast enough for millions of
/// fields per second, and strict (a field is a number or an error).
enum TextFields {
    /// Splits `line` at `separator`, keeping empty fields.
    static func split(_ line: UnsafeBufferPointer<UInt8>, separator: UInt8) -> [UnsafeBufferPointer<UInt8>] {
        var fields: [UnsafeBufferPointer<UInt8>] = []
        var from = 0
        for i in 0..<line.count where line[i] == separator {
            fields.append(UnsafeBufferPointer(rebasing: line[from..<i]))
            from = i + 1
        }
        fields.append(UnsafeBufferPointer(rebasing: line[from..<line.count]))
        return fields
    }

    /// A non-negative decimal integer between optional spaces, or nil.
    static func int(_ field: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = field.baseAddress else { return nil }
        var (start, end) = (0, field.count)
        while start < end, base[start] == 0x20 { start += 1 }
        while end > start, base[end - 1] == 0x20 { end -= 1 }
        return int(UnsafePointer(base), start..<end)
    }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// A decimal number ("0.0414", "-1.5", "3e-2"), or nil. Plain decimals of up to 15
    /// digits take an exact fast path (an integer mantissa divided by an exact power of
    /// ten is correctly rounded); anything else goes through `strtod`.
    static func double(_ field: UnsafeBufferPointer<UInt8>) -> Double? {
        // The fast path's form: -? digits* (. digits*)?, at least one digit. Past 16 digits
        // the loops stop before the Int overflows and leave the rest to `strtod`.
        var (position, count) = (0, field.count)
        let negative = count > 0 && field[0] == 0x2D
        if negative { position = 1 }
        var (mantissa, digits, fraction) = (0, 0, 0)
        func takeDigits(afterPoint: Bool) {
            while position < count, digits < 16 {
                let digit = field[position] &- 0x30
                guard digit < 10 else { break }
                mantissa = mantissa &* 10 &+ Int(digit)
                digits += 1
                if afterPoint { fraction += 1 }
                position += 1
            }
        }
        takeDigits(afterPoint: false)
        if position < count, field[position] == 0x2E {
            position += 1
            takeDigits(afterPoint: true)
        }
        if position == count, digits > 0, digits <= 15 {
            let value = Double(mantissa) / powersOfTen[fraction]
            return negative ? -value : value
        }
        guard !field.isEmpty, field.count < 64 else { return nil }
        var text = [CChar](repeating: 0, count: field.count + 1)
        for i in 0..<field.count { text[i] = CChar(bitPattern: field[i]) }
        var endPointer: UnsafeMutablePointer<CChar>?
        let value = text.withUnsafeBufferPointer { strtod($0.baseAddress!, &endPointer) }
        guard let endPointer, endPointer.pointee == 0 else { return nil }
        return value
    }

    /// A mark (0x80) in each byte of `word` that is zero, and nothing elsewhere: the carry-free
    /// test of Hacker's Delight §6-1, exact for every byte (the shorter test with a subtraction
    /// also marks a 0x01 byte above a zero one). `zeroBytes(word ^ 0x2C2C…)` marks the commas
    /// of eight bytes read as one word. O(1).
    @inline(__always)
    static func zeroBytes(_ word: UInt64) -> UInt64 {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        return ~(((word & low7) &+ low7) | word | low7)
    }

    /// The non-negative decimal integer in `base[range]` (digits only, up to 18; ``int(_:)``
    /// trims spaces first), or nil.
    @inline(__always)
    static func int(_ base: UnsafePointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard range.count > 0, range.count <= 18 else { return nil }
        var value = 0
        for i in range {
            let digit = base[i] &- 0x30
            guard digit < 10 else { return nil }
            value = value &* 10 &+ Int(digit)
        }
        return value
    }

    /// The phase in `base[range]`, for the spellings ``Phase/init(text:)`` accepts, or nil.
    @inline(__always)
    static func phase(_ base: UnsafePointer<UInt8>, _ range: Range<Int>) -> Phase? {
        let start = base + range.lowerBound
        switch range.count {
        case 1:
            switch start[0] {
            case 0x30, 0x70, 0x50: return .prefill  // 0 p P
            case 0x31, 0x64, 0x44: return .decode  // 1 d D
            default: return nil
            }
        case 6: return memcmp(start, "decode", 6) == 0 ? .decode : nil
        case 7: return memcmp(start, "prefill", 7) == 0 ? .prefill : nil
        default: return nil
        }
    }

    /// The field as text for error messages (invalid UTF-8 shown with replacement marks).
    static func show(_ field: UnsafeBufferPointer<UInt8>) -> String {
        let text = String(decoding: field.prefix(40), as: UTF8.self)
        return field.count > 40 ? text + "…" : text
    }

    /// The field as a String, or nil when it is not valid UTF-8.
    static func utf8(_ field: UnsafeBufferPointer<UInt8>) -> String? {
        String(validating: field, as: UTF8.self)
    }
}
