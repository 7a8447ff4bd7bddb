import Foundation
import Testing
@testable import TraceStore

@Suite("File writeback")
struct FileWritebackTests {
    @Test("writeback starts once an interval's bytes have gathered, and again after the next interval")
    func startsEveryInterval() throws {
        let path = Fixtures.temporaryFolder() + "/written"
        try Data(repeating: 7, count: 3 << 20).write(to: URL(fileURLWithPath: path))
        let writeback = FileWriteback(path: path, interval: 1 << 20)
        #expect(!writeback.wrote(512 << 10))
        #expect(writeback.wrote(600 << 10))
        #expect(!writeback.wrote(1 << 19))
        #expect(writeback.wrote(1 << 19))
        #expect(FileManager.default.contents(atPath: path) == Data(repeating: 7, count: 3 << 20))
    }

    @Test("a file that cannot be opened is left to the final fsync")
    func missingFile() {
        let writeback = FileWriteback(path: Fixtures.temporaryFolder() + "/absent/file", interval: 1)
        #expect(!writeback.wrote(10))
    }
}
