import Foundation
import TestSupport
import Testing
import TraceStore

/// The `moesim` binary: exit status, messages, JSON keys and files left behind.
@Suite("moesim trace commands")
struct TraceCommandTests {
    @Test("trace info --json carries the documented stable keys")
    func infoJSON() throws {
        let result = try CLI.run(["trace", "info", Fixtures.root + "/traces/demo.sqlite", "--json"])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        for key in ["tokens", "sequences", "layers", "experts", "top_k", "has_weights", "synthetic", "bytes_per_decision", "bytes_per_decision_ids",
                    "prefill_tokens", "decode_tokens", "file_bytes", "source", "license", "provenance"] {
            #expect(object[key] != nil, "missing key \(key)")
        }
        #expect(object["synthetic"] as? Bool == true)
        #expect(object["provenance"] as? String == "synthetic")
    }

    @Test("the bundled demo trace is synthetic, under 2 MB, and says so in text output")
    func demoTrace() throws {
        let size = try FileManager.default.attributesOfItem(atPath: Fixtures.root + "/traces/demo.sqlite")[.size] as! Int
        #expect(size < 2_000_000)
        let result = try CLI.run(["trace", "stats", Fixtures.root + "/traces/demo.sqlite"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("[SYNTHETIC]"))
    }

    @Test("bad input exits with status 2, names the file, and leaves no output", arguments: [
        ["trace", "info", "/nonexistent/t.sqlite"],
        ["trace", "import", "--format", "esft", "/nonexistent", "-o", "OUT"],
        ["trace", "import", "--format", "route-csv", "EMPTY", "-o", "OUT"],
        ["trace", "import", "--format", "csv", "EMPTY", "-o", "OUT", "--model", "no-such-model"],
        ["trace", "import", "--format", "yaml", "EMPTY", "-o", "OUT"],
        ["trace", "synth", "--model", "qwen3-30b-a3b", "--tokens", "0", "-o", "OUT"],
    ])
    func badInput(arguments: [String]) throws {
        let folder = Fixtures.temporaryFolder()
        let empty = Fixtures.write("", to: "empty.csv", in: folder)
        let output = folder + "/out.sqlite"
        let result = try CLI.run(arguments.map { $0 == "OUT" ? output : $0 == "EMPTY" ? empty : $0 })
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(!result.stderr.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("an unknown model's error lists the valid names")
    func unknownModel() throws {
        let result = try CLI.run(["trace", "synth", "--model", "gpt-5", "--tokens", "10", "-o", Fixtures.temporaryFolder() + "/x.sqlite"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("unknown model 'gpt-5'"))
        #expect(result.stderr.contains("mixtral-8x7b"))
    }

    @Test("moesim models lists every preset")
    func models() throws {
        let result = try CLI.run(["models"])
        #expect(result.status == 0)
        for preset in ModelPreset.all { #expect(result.stdout.contains(preset.name)) }
    }

    @Test("a zstd fast level writes a trace with the same tokens as level 19, in a larger file")
    func fastLevel() throws {
        let folder = Fixtures.temporaryFolder()
        var sizes: [Int] = []
        var tokens: [[String]] = []
        for level in ["19", "-5"] {
            let path = folder + "/l\(level).sqlite"
            let result = try CLI.run(["trace", "synth", "--model", "qwen3-30b-a3b", "--tokens", "600", "--level", level, "-o", path])
            #expect(result.status == 0, "\(result.stderr)")
            sizes.append(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int)
            tokens.append(try Fixtures.tokens(of: path).map { "\($0.sequence) \($0.phase) \($0.ids) \($0.weights)" })
        }
        #expect(tokens[0].count == 600)
        #expect(tokens[0] == tokens[1])
        #expect(sizes[1] > sizes[0])
    }

    @Test("--level 0 and levels beyond zstd's range are refused with the valid ones", arguments: ["0", "23", "-200000"])
    func levelOutOfRange(level: String) throws {
        let output = Fixtures.temporaryFolder() + "/x.sqlite"
        let result = try CLI.run(["trace", "synth", "--model", "qwen3-30b-a3b", "--tokens", "10", "--level", level, "-o", output])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--level is \(level); valid: 1…22, or -131072…-1 for zstd's fast levels"))
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("trace synth writes at level 1 unless told, trace import at level 19")
    func defaultLevels() throws {
        let folder = Fixtures.temporaryFolder()
        func synth(_ level: [String], _ name: String) throws -> Data? {
            let path = folder + "/" + name
            let result = try CLI.run(["trace", "synth", "--model", "qwen3-30b-a3b", "--tokens", "300", "-o", path] + level)
            #expect(result.status == 0, "\(result.stderr)")
            return FileManager.default.contents(atPath: path)
        }
        let synthDefault = try synth([], "d.sqlite")
        #expect(synthDefault == (try synth(["--level", "1"], "1.sqlite")))
        #expect(synthDefault != (try synth(["--level", "19"], "19.sqlite")))
        let csv = Fixtures.write("sequence,token,phase,layer,rank,expert\na,0,decode,0,0,1\na,0,decode,0,1,2\n", to: "in.csv", in: folder)
        func imported(_ level: [String], _ name: String) throws -> Data? {
            let result = try CLI.run(["trace", "import", "--format", "csv", csv, "-o", folder + "/" + name] + level)
            #expect(result.status == 0, "\(result.stderr)")
            return FileManager.default.contents(atPath: folder + "/" + name)
        }
        #expect(try imported([], "i.sqlite") == (try imported(["--level", "19"], "i19.sqlite")))
    }
}
