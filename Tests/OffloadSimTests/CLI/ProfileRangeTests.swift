import Foundation
import OffloadSim
import TestSupport
import Testing

/// Hardware profiles and policy files with numbers at the edges, as `simulate` meets them
/// (issue 18): exit 2, the file, the line, the value and the valid range; nothing written.
@Suite("Profile and policy files at the edges")
struct ProfileRangeTests {
    static let demo = Repository.root + "/traces/demo.sqlite"

    @Test("a hardware profile value outside its range is refused with its line and range", arguments: [
        ("h2d_gbps = 25.2", "h2d_gbps = 1e-300", "'bus.h2d_gbps' is 1e-300; valid: 0.001…1000000"),
        ("latency_ns = 5000 ", "latency_ns = 9223372036854775807 ", "'bus.latency_ns' is 9.223372036854776e+18; valid: 0…1000000000"),
        ("copy_engines = 1 ", "copy_engines = 0 ", "'bus.copy_engines' is 0; valid: 1…64"),
        ("hbm_gbps = 768.0", "hbm_gbps = inf", "'gpu.hbm_gbps' is inf; valid: 0.001…1000000"),
    ])
    func hardwareOutOfRange(from: String, to: String, message: String) throws {
        let folder = Repository.temporaryFolder()
        let text = HardwareProfile.preset(named: "rtx-a6000")!.tomlText
        #expect(text.contains(from))
        let path = folder + "/hw.toml"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.replacingOccurrences(of: from, with: to).utf8))
        let before = FolderSnapshot(folder)
        let result = try CLI.run(["simulate", "--trace", Self.demo, "--hardware", path, "--timeline", folder + "/t.json"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("hw.toml: line ") && result.stderr.contains(message), "stderr: \(result.stderr)")
        #expect(FolderSnapshot(folder) == before)
    }

    @Test("a policy file whose lookahead reaches past the model's layers is refused")
    func lookaheadPastTheModel() throws {
        let folder = Repository.temporaryFolder()
        let exported = try CLI.run(["policies", "--export", "cross-layer-gate"])
        let text = exported.stdout.replacingOccurrences(of: "lookahead = 1\n", with: "lookahead = 1000\n")
        #expect(text.contains("lookahead = 1000"))
        _ = FileManager.default.createFile(atPath: folder + "/p.toml", contents: Data(text.utf8))
        let result = try CLI.run(["simulate", "--trace", Self.demo, "--policy", folder + "/p.toml"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("predictor.lookahead: is 1000, but") && result.stderr.contains("Give a lookahead of 1…"), "stderr: \(result.stderr)")
    }
}
