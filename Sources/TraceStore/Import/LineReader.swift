#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a text file line by line through a fixed buffer, handing out each line's bytes
/// without a trailing "\n" or "\r\n" (and the first without a UTF-8 byte-order mark). Memory is the buffer plus the longest line.
public final class LineReader {
    /// The file being read.
    public let path: String
    /// 1-based number of the line last returned.
    public private(set) var lineNumber = 0
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEOF = false
    private var line: [UInt8] = []

    /// Opens `path`; throws a ``TraceStoreError`` naming it when it cannot be read.
    public init(path: String, bufferSize: Int = 1 << 20) throws {
        self.path = path
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw TraceStoreError(file: path, problem: "is a folder where a file was expected", fix: "Pass the file itself, or check --format.")
        }
        guard let file = fopen(path, "rb") else {
            throw TraceStoreError(file: path, problem: "cannot be opened (\(String(cString: strerror(errno))))",
                                  fix: "Check that the path exists and is readable.")
        }
        self.file = file
        buffer = [UInt8](repeating: 0, count: bufferSize)
    }

    deinit {
        fclose(file)
    }

    /// Calls `body` with the next line's bytes; returns nil at the end of the file. A line
    /// that lies whole in the buffer is handed over in place; one that spans refills is
    /// gathered first.
    public func nextLine<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
        try nextLineBytes { try emit($0, body) }
    }

    /// Calls `body` with the next line's bytes as the file holds them, without its "\n" and
    /// untrimmed, and without counting it; nil at the end of the file.
    private func nextLineBytes<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
        line.removeAll(keepingCapacity: true)
        while true {
            if start == end {
                if atEOF { break }
                try refill()
                if atEOF { break }
            }
            let (from, to) = (start, end)
            let newline = buffer.withUnsafeBufferPointer { buffer -> Int? in
                memchr(buffer.baseAddress! + from, 0x0A, to - from).map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - buffer.baseAddress! }
            }
            if let newline {
                start = newline + 1
                if line.isEmpty {
                    return try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[from..<newline])) }
                }
                line.append(contentsOf: buffer[from..<newline])
                return try line.withUnsafeBufferPointer { try body($0) }
            }
            line.append(contentsOf: buffer[from..<to])
            start = to
        }
        if line.isEmpty { return nil }
        return try line.withUnsafeBufferPointer { try body($0) }
    }

    /// Calls `body` with each remaining line's bytes (as ``nextLine(_:)`` hands them over) and
    /// its 1-based number, in order, until the end of the file or until `body` returns false.
    /// For whole-file scans: the position is kept in locals while the buffer holds whole
    /// lines (the reader's stored properties are checked for exclusive access at every use,
    /// ~180 instructions a line through ``nextLine(_:)``); a line that spans refills is read
    /// through ``nextLine(_:)``. O(bytes).
    public func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, _ lineNumber: Int) throws -> Bool) throws {
        while true {
            let (from, to, first) = (start, end, lineNumber)
            var (consumed, number, stopped) = (from, first, false)
            try buffer.withUnsafeBufferPointer { buffer in
                let base = buffer.baseAddress!
                while consumed < to, let found = memchr(base + consumed, 0x0A, to - consumed) {
                    let newline = UnsafePointer(found.assumingMemoryBound(to: UInt8.self)) - base
                    number += 1
                    let line = Self.trimmed(UnsafeBufferPointer(start: base + consumed, count: newline - consumed), lineNumber: number)
                    consumed = newline + 1
                    if try !body(line, number) {
                        stopped = true
                        return
                    }
                }
            }
            (start, lineNumber) = (consumed, number)
            if stopped { return }
            // No whole line is left in the buffer: the next one spans a refill, or the file has ended.
            var keep = true
            guard try nextLine({ keep = try body($0, lineNumber) }) != nil, keep else { return }
        }
    }

    /// Calls `body` with each run of whole lines as they lie in the buffer (the run ends with its
    /// last line's "\n", or at the end of the file) and the number of the line before the run,
    /// until the end of the file or until `body` returns false; a line that spans refills comes
    /// as a run of its own. ``lines(in:after:_:)`` splits a run into the lines ``nextLine(_:)``
    /// would hand over, so that a caller can parse a run's lines on several threads. Reads to
    /// the end of each run: after a stop, ``lineNumber`` is the run's last line. O(bytes).
    public func forEachRun(_ body: (UnsafeBufferPointer<UInt8>, _ linesBefore: Int) throws -> Bool) throws {
        while true {
            if start == end {
                if atEOF { return }
                try refill()
                if atEOF { return }
            }
            let (from, to, before) = (start, end, lineNumber)
            var lines = 0, keep = true
            let whole = try buffer.withUnsafeBufferPointer { buffer -> Bool in
                let base = buffer.baseAddress!
                // The last "\n" is at most one line from the end: a short scan backwards.
                var last = to - 1
                while last >= from && base[last] != 0x0A { last -= 1 }
                guard last >= from else { return false }
                let run = UnsafeBufferPointer(start: base + from, count: last + 1 - from)
                lines = Self.newlines(in: run)
                start = last + 1
                keep = try body(run, before)
                return true
            }
            if whole {
                lineNumber = before + lines
                if !keep { return }
                continue
            }
            // The buffer ends inside a line: it is gathered through refills, a run of its own.
            let kept = try nextLineBytes { try body($0, before) }
            lineNumber = before + 1
            guard kept == true else { return }
        }
    }

    /// Calls `body` with each line of `run` (from ``forEachRun(_:)``, whose line before it is
    /// number `linesBefore`) and its number, trimmed as ``nextLine(_:)`` trims it, until
    /// `body` returns false; returns whether it went to the end. O(bytes).
    public static func lines(in run: UnsafeBufferPointer<UInt8>, after linesBefore: Int,
                             _ body: (UnsafeBufferPointer<UInt8>, _ lineNumber: Int) throws -> Bool) rethrows -> Bool {
        guard let base = run.baseAddress else { return true }
        var (consumed, number) = (0, linesBefore)
        while consumed < run.count {
            let newline = memchr(base + consumed, 0x0A, run.count - consumed)
                .map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base } ?? run.count
            number += 1
            guard try body(trimmed(UnsafeBufferPointer(start: base + consumed, count: newline - consumed), lineNumber: number), number) else {
                return false
            }
            consumed = newline + 1
        }
        return true
    }

    /// How many "\n" bytes `bytes` holds, found with `memchr` (a byte loop stayed scalar,
    /// with or without a branch: 13% of a JSON Lines import).
    private static func newlines(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var (count, at) = (0, 0)
        while at < bytes.count, let found = memchr(base + at, 0x0A, bytes.count - at) {
            count += 1
            at = UnsafePointer(found.assumingMemoryBound(to: UInt8.self)) - base + 1
        }
        return count
    }

    private func refill() throws {
        end = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        start = 0
        if end == 0 {
            atEOF = true
            if ferror(file) != 0 {
                throw TraceStoreError(file: path, place: "line \(lineNumber + 1)", problem: "could not be read (I/O error)",
                                      fix: "Check the disk and the file.")
            }
        }
    }

    /// Hands `bytes` to `body` as the next line: without a trailing "\r", and the first
    /// line without a UTF-8 byte-order mark (spreadsheet exports write one).
    private func emit<T>(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T {
        lineNumber += 1
        return try body(Self.trimmed(bytes, lineNumber: lineNumber))
    }

    /// `bytes` of line `lineNumber` without a trailing "\r" and, on the first line, without a
    /// UTF-8 byte-order mark.
    @inline(__always)
    private static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>, lineNumber: Int) -> UnsafeBufferPointer<UInt8> {
        var text = bytes[...]
        if text.last == 0x0D { text = text.dropLast() }
        if lineNumber == 1, text.starts(with: [0xEF, 0xBB, 0xBF]) { text = text.dropFirst(3) }
        return UnsafeBufferPointer(rebasing: text)
    }
}
