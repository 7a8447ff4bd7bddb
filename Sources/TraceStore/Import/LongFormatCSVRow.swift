/// Reads a data row of the generic long format's CSV straight from its bytes: the fields
/// split at commas, trimmed of spaces and tabs, the integers and the weight parsed in place,
/// and the sequence name made into a String only when it changes. Only an ASCII row whose
/// fields are all valid is read here; any other row (non-ASCII text, a wrong field count, a
/// bad value) returns nil and goes through the general path, which reads it the same way or
/// reports the error — so this path changes the speed of an import, not its outcome. O(bytes
/// of the row), no allocation for a row of the current sequence.
struct LongFormatCSVRow {
    /// Field positions of the columns (`weightField`: -1 when the header has no weight).
    private let sequenceField, tokenField, phaseField, layerField, rankField, expertField, weightField: Int
    private let fieldCount: Int
    /// Where each field of the row being read starts and ends (byte offsets; scratch).
    private var starts: [Int]
    private var ends: [Int]
    private var sequenceName = SequenceNameCache()

    /// A reader for rows under a header whose column positions are `index`.
    init(columnIndex index: [String: Int]) {
        let positions = LongFormatImporter.columns.map { index[$0] ?? -1 }
        (sequenceField, tokenField, phaseField, layerField) = (positions[0], positions[1], positions[2], positions[3])
        (rankField, expertField, weightField) = (positions[4], positions[5], positions[6])
        fieldCount = index.count
        starts = Array(repeating: 0, count: index.count)
        ends = Array(repeating: 0, count: index.count)
    }

    /// The row in `line`, or nil when the general path must read it.
    mutating func read(_ line: UnsafeBufferPointer<UInt8>) -> LongFormatImporter.Row? {
        guard fieldCount > 0, let base = line.baseAddress, !line.isEmpty, base[0] != 0x23 else { return nil }
        // Field bounds go through buffers: an element write into the stored arrays paid a
        // uniqueness check each.
        let (count, fieldCount) = (line.count, self.fieldCount)
        let split = starts.withUnsafeMutableBufferPointer { starts in
            ends.withUnsafeMutableBufferPointer { ends -> Bool in
                var (field, from) = (0, 0)
                @inline(__always) func comma(at position: Int) -> Bool {
                    guard field + 1 < fieldCount else { return false }
                    starts[field] = from
                    ends[field] = position
                    field += 1
                    from = position + 1
                    return true
                }
                // Eight bytes at a time: `high` gathers every byte's top bit (non-ASCII is
                // refused once, after the loops), and the commas are the zero bytes of
                // `word ^ 0x2C2C…`.
                var (high, i): (UInt64, Int) = (0, 0)
                let raw = UnsafeRawPointer(base)
                while i + 8 <= count {
                    let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                    high |= word
                    var commas = TextFields.zeroBytes(word ^ 0x2C2C_2C2C_2C2C_2C2C)
                    while commas != 0 {
                        guard comma(at: i + (commas.trailingZeroBitCount >> 3)) else { return false }
                        commas &= commas &- 1
                    }
                    i += 8
                }
                while i < count {
                    high |= UInt64(base[i])
                    if base[i] == 0x2C, !comma(at: i) { return false }
                    i += 1
                }
                guard high & 0x8080_8080_8080_8080 == 0, field + 1 == fieldCount else { return false }
                starts[field] = from
                ends[field] = count
                return true
            }
        }
        guard split else { return nil }
        let (sequence, tokenText, phaseText) = (field(sequenceField, base), field(tokenField, base), field(phaseField, base))
        guard sequence.count > 0, let phase = TextFields.phase(base, phaseText),
              let token = TextFields.int(base, tokenText), let layer = TextFields.int(base, field(layerField, base)),
              let rank = TextFields.int(base, field(rankField, base)), let expert = TextFields.int(base, field(expertField, base)) else { return nil }
        var weight: Double?
        if weightField >= 0 {
            let text = field(weightField, base)
            if text.count > 0 {
                guard let value = TextFields.double(UnsafeBufferPointer(start: base + text.lowerBound, count: text.count)),
                      value.isFinite, ValidRange.gateWeight.contains(Float(value)) else { return nil }
                weight = value
            }
        }
        return LongFormatImporter.Row(sequence: sequenceName.name(base, sequence), token: token, phase: phase, layer: layer, rank: rank, expert: expert, weight: weight)
    }

    /// Field `index` of the row just split, without leading and trailing spaces and tabs.
    @inline(__always)
    private func field(_ index: Int, _ base: UnsafePointer<UInt8>) -> Range<Int> {
        var (start, end) = (starts[index], ends[index])
        while start < end, base[start] == 0x20 || base[start] == 0x09 { start += 1 }
        while end > start, base[end - 1] == 0x20 || base[end - 1] == 0x09 { end -= 1 }
        return start..<end
    }
}
