import Foundation
import Testing
import TraceStore

@Suite("Line reader")
struct LineReaderTests {
    /// A byte-order mark, CRLF and LF endings, empty lines, lines longer than the test's
    /// 7-byte buffer, and no newline at the end.
    let text = Data([0xEF, 0xBB, 0xBF]) + Data("first\r\nsecond line, longer than the buffer\n\n\r\nx\nlast without newline".utf8)

    private func lines(_ reader: LineReader) throws -> [(String, Int)] {
        var lines: [(String, Int)] = []
        while let line = try reader.nextLine({ String(decoding: $0, as: UTF8.self) }) { lines.append((line, reader.lineNumber)) }
        return lines
    }

    @Test("every line goes to the loop with its number, as nextLine hands it over, at any buffer size", arguments: [7, 16, 1 << 20])
    func forEachLineMatchesNextLine(bufferSize: Int) throws {
        let path = Fixtures.temporaryFolder() + "/lines.txt"
        _ = FileManager.default.createFile(atPath: path, contents: text)
        let expected = try lines(LineReader(path: path, bufferSize: bufferSize))
        #expect(expected.map(\.0) == ["first", "second line, longer than the buffer", "", "", "x", "last without newline"])
        var got: [(String, Int)] = []
        try LineReader(path: path, bufferSize: bufferSize).forEachLine { bytes, number in
            got.append((String(decoding: bytes, as: UTF8.self), number))
            return true
        }
        #expect(got.map(\.0) == expected.map(\.0))
        #expect(got.map(\.1) == Array(1...6))
    }

    @Test("a loop that stops leaves the reader at the next line", arguments: [7, 1 << 20])
    func stoppingLeavesTheRest(bufferSize: Int) throws {
        let path = Fixtures.temporaryFolder() + "/lines.txt"
        _ = FileManager.default.createFile(atPath: path, contents: text)
        let reader = try LineReader(path: path, bufferSize: bufferSize)
        var seen = 0
        try reader.forEachLine { _, number in
            seen = number
            return number < 2
        }
        #expect(seen == 2 && reader.lineNumber == 2)
        let rest = try lines(reader)
        #expect(rest.map(\.0) == ["", "", "x", "last without newline"])
        #expect(rest.map(\.1) == [3, 4, 5, 6])
    }

    @Test("runs of whole lines, split into lines, hand over what nextLine does with the same numbers, at any buffer size",
          arguments: [7, 16, 1 << 20])
    func runsMatchNextLine(bufferSize: Int) throws {
        let path = Fixtures.temporaryFolder() + "/lines.txt"
        _ = FileManager.default.createFile(atPath: path, contents: text)
        let expected = try lines(LineReader(path: path, bufferSize: bufferSize))
        let reader = try LineReader(path: path, bufferSize: bufferSize)
        var got: [(String, Int)] = []
        var runs = 0
        try reader.forEachRun { run, before in
            runs += 1
            #expect(before == got.count, "a run follows the lines handed over so far")
            let whole = LineReader.lines(in: run, after: before) { bytes, number in
                got.append((String(decoding: bytes, as: UTF8.self), number))
                return true
            }
            #expect(whole)
            return true
        }
        #expect(got.map(\.0) == expected.map(\.0))
        #expect(got.map(\.1) == Array(1...6))
        #expect(reader.lineNumber == 6)
        // With room for every line: the whole lines, then the last (no newline ends it); a
        // 7-byte buffer cuts the file into more runs.
        #expect(bufferSize == 1 << 20 ? runs == 2 : runs > 2)
    }
}
