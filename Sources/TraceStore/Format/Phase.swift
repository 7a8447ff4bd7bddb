/// Whether a token was processed in the prompt (prefill) or generated (decode).
public enum Phase: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// A prompt token: all of a prompt's tokens pass each layer together.
    case prefill = 0
    /// A generated token: one per sequence per decode step.
    case decode = 1

    public var description: String { self == .prefill ? "prefill" : "decode" }

    /// Parses "prefill"/"decode" or "0"/"1" (the route CSVs' encoding).
    public init?(text: Substring) {
        switch text {
        case "prefill", "0", "p", "P": self = .prefill
        case "decode", "1", "d", "D": self = .decode
        default: return nil
        }
    }
}
