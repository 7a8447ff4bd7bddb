import ArgumentParser
import TraceStore

/// Checks a numeric command-line option against its documented range (README "Input
/// ranges", ``ValidRange``): a value outside is a usage error naming the option, the value
/// and the range.
enum OptionRange {
    static func check(_ value: Int, _ range: ClosedRange<Int>, _ option: String) throws {
        guard range.contains(value) else { throw ValidationError("\(option) is \(value); valid: \(ValidRange.text(range)).") }
    }

    /// Runs `body`, restating an error about another option (`RunSetup` names `--policy`,
    /// `--hardware`, `--engine`) as one about `option`, the option the user gave.
    static func named<T>(_ option: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var error as TraceStoreError where error.file.hasPrefix("--") {
            error.file = option
            throw error
        }
    }

    static func check(_ value: Double, _ range: ClosedRange<Double>, _ option: String) throws {
        guard value.isFinite, range.contains(value) else { throw ValidationError("\(option) is \(value); valid: \(ValidRange.text(range)).") }
    }
}
