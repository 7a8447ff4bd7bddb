import TestSupport
import Foundation
import Testing
import TraceStore

@Suite("Atomic writes")
struct AtomicWriteTests {
    @Test("an import that fails part-way leaves no output and no temporary file")
    func failedImportLeavesNothing() throws {
        let folder = Fixtures.temporaryFolder()
        var rows = "sequence,token,phase,layer,rank,expert,weight\n"
        for t in 0..<50 { rows += "a,\(t),decode,0,0,\(t % 4),0.5\n" }
        rows += "a,50,decode,0,0,not-a-number,0.5\n"
        let input = Fixtures.write(rows, to: "in.csv", in: folder)
        let output = folder + "/out.sqlite"
        #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .csv, inputs: [input], output: output, options: ImportOptions())
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["in.csv"])
    }

    @Test("a previous trace under the target name survives a failed import untouched")
    func failedImportKeepsOldTrace() throws {
        let folder = Fixtures.temporaryFolder()
        let output = folder + "/out.sqlite"
        try Fixtures.tinyTrace(at: output)
        let before = FileManager.default.contents(atPath: output)
        let input = Fixtures.write("sequence,token,phase,layer,rank,expert\na,0,decode,0,0,x\n", to: "in.csv", in: folder)
        #expect(throws: TraceStoreError.self) {
            try TraceImport.run(format: .csv, inputs: [input], output: output, options: ImportOptions())
        }
        #expect(FileManager.default.contents(atPath: output) == before)
    }

    @Test("a process killed with SIGKILL mid-write leaves nothing under the target name")
    func killedWriterLeavesNoTrace() throws {
        let folder = Fixtures.temporaryFolder()
        let output = folder + "/big.sqlite"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.executable)
        process.arguments = ["trace", "synth", "--model", "qwen3-30b-a3b", "--tokens", "2000000", "--seed", "1", "-o", output]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait until the writer has started writing, then kill it.
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: output + ".partial"), Date() < deadline { usleep(20_000) }
        usleep(300_000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
