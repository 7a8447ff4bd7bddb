import Foundation
import Policies
import TestSupport
import TOML
import Testing

@Suite("Policy files")
struct PolicySpecTests {
    @Test("every named policy survives a round trip through its file", arguments: PolicySpec.builtIns.map(\.name))
    func roundTrip(name: String) throws {
        let spec = try #require(PolicySpec.builtIn(named: name))
        #expect(try PolicySpec(toml: spec.tomlText, file: "\(name).toml") == spec)
    }

    @Test("the files in policies/ are the named policies as `moesim policies --export` writes them", arguments: PolicySpec.builtIns.map(\.name))
    func checkedInFiles(name: String) throws {
        let path = Repository.root + "/policies/\(name).toml"
        #expect(try String(contentsOfFile: path, encoding: .utf8) == PolicySpec.builtIn(named: name)!.tomlText,
                "run `make policy-files` to regenerate \(path)")
    }

    @Test("a bad key or value is refused with its line and the valid choices", arguments: [
        ("name = \"x\"\nmechanism = \"prefetch\"\n[predictor]\nname = \"crystal-ball\"\n", 4, "valid: recorded, oracle"),
        ("name = \"x\"\nmechanism = \"teleport\"\n", 2, "valid: on-demand, prefetch"),
        ("name = \"x\"\nmechanism = \"on-demand\"\n[cache]\nsize = 3\n", 4, "unknown key 'cache.size'"),
        ("name = \"x\"\nmechanism = \"on-demand\"\n[cache]\nmib = -1\n", 4, "'cache.mib' is -1.0; valid: above 0 up to 1099511627776"),
        ("name = \"x\"\nmechanism = \"speculative\"\n", 0, "needs 'predictor.name'"),
        ("name = \"x\"\nmechanism = \"on-demand\"\n[execution]\norder = \"resident-first\"\n", 4, "read only by mechanism \"prefetch\""),
    ])
    func badFiles(text: String, line: Int, message: String) {
        #expect {
            _ = try PolicySpec(toml: text, file: "mine.toml")
        } throws: { error in
            guard let error = error as? TOMLFileError else { return false }
            return error.line == line && error.problem.contains(message)
        }
    }
}

@Suite("Policy files compose")
struct PolicyCompositionTests {
    @Test("a user's file composes a mechanism with a per-layer recall without Swift")
    func perLayerRecall() throws {
        let text = """
            name = "exact-early-layers"
            mechanism = "speculative"
            [predictor]
            name = "parametric"
            layer_recall = [1.0, 1.0, 0.8]
            """
        let spec = try PolicySpec(toml: text, file: "mine.toml")
        #expect(spec.layerRecall == [1, 1, 0.8])
        #expect(try PolicySpec(toml: spec.tomlText, file: "again.toml") == spec)
    }
}
