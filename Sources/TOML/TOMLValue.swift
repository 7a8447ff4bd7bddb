import Foundation

/// A TOML value (toml.io v1.0.0), restricted to what moesim's files use: strings,
/// integers, floats, booleans and arrays of those.
public enum TOMLValue: Equatable, Sendable {
    /// A basic ("…") or literal ('…') string.
    case string(String)
    /// A 64-bit integer.
    case integer(Int)
    /// A 64-bit float (also `inf` and `nan`).
    case float(Double)
    /// `true` or `false`.
    case bool(Bool)
    /// An array of values (TOML allows mixed types; moesim's readers check them).
    case array([TOMLValue])

    /// The TOML type name, as error messages say it.
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .bool: "boolean"
        case .array: "array"
        }
    }

    /// The value as a number: integers widen to Double.
    public var number: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .float(let value): value
        default: nil
        }
    }
}

extension TOMLValue: CustomStringConvertible {
    /// The value written back as TOML.
    public var description: String {
        switch self {
        case .string(let text): TOMLValue.quoted(text)
        case .integer(let value): String(value)
        case .float(let value):
            if value.isNaN { "nan" } else if value.isInfinite { value < 0 ? "-inf" : "inf" } else {
                value == value.rounded() && abs(value) < 1e15 ? String(format: "%.1f", value) : "\(value)"
            }
        case .bool(let value): value ? "true" : "false"
        case .array(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// `text` as a TOML basic string, escaped.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04X", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
