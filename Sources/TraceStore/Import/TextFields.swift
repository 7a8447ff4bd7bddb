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

    /// A non-negative decimal integer, or nil.
    static func int(_ field: UnsafeBufferPointer<UInt8>) -> Int? {
        var bytes = field[...]
        while let first = bytes.first, first == 0x20 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 { bytes = bytes.dropLast() }
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
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
        var mantissa = 0
        var digits = 0
        var fraction = 0
        var seenPoint = false
        var negative = false
        var simple = !field.isEmpty
        for (i, byte) in field.enumerated() {
            if byte >= 0x30, byte <= 0x39 {
                // Past 15 digits the fast path is not taken; stop before the Int overflows.
                guard digits < 16 else {
                    simple = false
                    break
                }
                mantissa = mantissa * 10 + Int(byte - 0x30)
                digits += 1
                if seenPoint { fraction += 1 }
            } else if byte == 0x2E, !seenPoint {
                seenPoint = true
            } else if byte == 0x2D, i == 0 {
                negative = true
            } else {
                simple = false
                break
            }
        }
        if simple, digits > 0, digits <= 15, fraction <= 22 {
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
