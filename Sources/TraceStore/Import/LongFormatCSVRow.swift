/// Reads a data row of the generic long format's CSV straight from its bytes: the fields
/// split at commas, trimmed of spaces and tabs, the integers and the weight parsed in place,
/// and the sequence name made into a String only when it changes. Only an ASCII row whose
/// fields are all valid is read here; any other row (non-ASCII text, a wrong field count, a
/// bad value) returns nil and goes through the general path, which reads it the same way or
/// reports the error — so this path changes the speed of an import, not its outcome. O(bytes
/// of the row), no allocation for a row of the current sequence.
struct LongFormatCSVRow {
    /// Field positions of the columns, in ``LongFormatImporter/columns`` order (`weight`: -1 when absent).
    private let positions: [Int]
    private let fieldCount: Int
    private var starts: [Int]
    private var ends: [Int]
    private var sequenceBytes: [UInt8] = []
    private var sequenceName = ""

    /// A reader for rows under a header whose column positions are `index`.
    init(columnIndex index: [String: Int]) {
        positions = LongFormatImporter.columns.map { index[$0] ?? -1 }
        fieldCount = index.count
        starts = Array(repeating: 0, count: index.count)
        ends = Array(repeating: 0, count: index.count)
    }

    /// The row in `line`, or nil when the general path must read it.
    mutating func read(_ line: UnsafeBufferPointer<UInt8>) -> LongFormatImporter.Row? {
        guard fieldCount > 0, let first = line.first, first != 0x23 else { return nil }
        // The field bounds are written through buffers: an element write into the stored
        // arrays paid a uniqueness check each.
        let fieldCount = self.fieldCount
        let split = starts.withUnsafeMutableBufferPointer { starts in
            ends.withUnsafeMutableBufferPointer { ends -> Bool in
                var field = 0
                var from = 0
                for i in 0..<line.count {
                    let byte = line[i]
                    if byte >= 0x80 { return false }
                    if byte == 0x2C {
                        guard field + 1 < fieldCount else { return false }
                        starts[field] = from
                        ends[field] = i
                        field += 1
                        from = i + 1
                    }
                }
                guard field + 1 == fieldCount else { return false }
                starts[field] = from
                ends[field] = line.count
                for index in 0..<fieldCount {
                    while starts[index] < ends[index], line[starts[index]] == 0x20 || line[starts[index]] == 0x09 { starts[index] += 1 }
                    while ends[index] > starts[index], line[ends[index] - 1] == 0x20 || line[ends[index] - 1] == 0x09 { ends[index] -= 1 }
                }
                return true
            }
        }
        guard split else { return nil }
        func bytes(_ column: Int) -> UnsafeBufferPointer<UInt8> {
            let index = positions[column]
            return UnsafeBufferPointer(rebasing: line[starts[index]..<ends[index]])
        }
        let sequence = bytes(0)
        guard !sequence.isEmpty,
              let phase = Self.phase(bytes(2)),
              let token = TextFields.int(bytes(1)), let layer = TextFields.int(bytes(3)),
              let rank = TextFields.int(bytes(4)), let expert = TextFields.int(bytes(5)) else { return nil }
        var weight: Double?
        if positions[6] >= 0 {
            let text = bytes(6)
            if !text.isEmpty {
                guard let value = TextFields.double(text), value.isFinite, ValidRange.gateWeight.contains(Float(value)) else { return nil }
                weight = value
            }
        }
        if !Self.equal(sequence, sequenceBytes) {
            sequenceBytes.removeAll(keepingCapacity: true)
            sequenceBytes.append(contentsOf: sequence)
            sequenceName = String(decoding: sequence, as: UTF8.self)
        }
        return LongFormatImporter.Row(sequence: sequenceName, token: token, phase: phase, layer: layer, rank: rank, expert: expert, weight: weight)
    }

    /// The phases ``Phase/init(text:)`` accepts, read from bytes.
    private static func phase(_ text: UnsafeBufferPointer<UInt8>) -> Phase? {
        switch text.count {
        case 1:
            switch text[0] {
            case 0x30, 0x70, 0x50: return .prefill  // 0 p P
            case 0x31, 0x64, 0x44: return .decode  // 1 d D
            default: return nil
            }
        case 6: return equal(text, decodeBytes) ? .decode : nil
        case 7: return equal(text, prefillBytes) ? .prefill : nil
        default: return nil
        }
    }

    private static let decodeBytes = Array("decode".utf8), prefillBytes = Array("prefill".utf8)

    /// Whether `text` holds the bytes of `expected`: compared as buffers, since the generic
    /// `elementsEqual` over a String's UTF-8 view or an Array was 12% of a CSV import.
    @inline(__always)
    private static func equal(_ text: UnsafeBufferPointer<UInt8>, _ expected: [UInt8]) -> Bool {
        guard text.count == expected.count else { return false }
        return expected.withUnsafeBufferPointer { expected in
            for i in 0..<text.count where text[i] != expected[i] { return false }
            return true
        }
    }
}
