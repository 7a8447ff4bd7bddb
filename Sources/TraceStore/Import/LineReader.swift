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

    /// Calls `body` with the next line's bytes; returns false at the end of the file.
    public func nextLine<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
        line.removeAll(keepingCapacity: true)
        while true {
            if start == end {
                if atEOF { break }
                end = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
                start = 0
                if end == 0 {
                    atEOF = true
                    if ferror(file) != 0 {
                        throw TraceStoreError(file: path, place: "line \(lineNumber + 1)", problem: "could not be read (I/O error)",
                                              fix: "Check the disk and the file.")
                    }
                    break
                }
            }
            let newline = buffer.withUnsafeBufferPointer { buffer -> Int? in
                var i = start
                while i < end {
                    if buffer[i] == 0x0A { return i }
                    i += 1
                }
                return nil
            }
            if let newline {
                line.append(contentsOf: buffer[start..<newline])
                start = newline + 1
                return try emit(body)
            }
            line.append(contentsOf: buffer[start..<end])
            start = end
        }
        if line.isEmpty { return nil }
        return try emit(body)
    }

    private func emit<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T {
        lineNumber += 1
        if line.last == 0x0D { line.removeLast() }
        // A UTF-8 byte-order mark (spreadsheet exports write one) is not part of the text.
        if lineNumber == 1, line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        return try line.withUnsafeBufferPointer(body)
    }
}
