import Testing
import TOML

@Suite("TOML document")
struct TOMLDocumentTests {
    @Test("tables, dotted keys, strings, numbers, booleans and multi-line arrays parse with their lines")
    func parsesTheSubset() throws {
        let text = """
            # a comment
            name = "a \\"quoted\\" name" # trailing comment
            literal = 'C:\\path'

            [bus]
            h2d_gbps = 25.2
            latency_ns = 5_000
            fast.enabled = true
            sizes = [
              1, 2.5,   # comment inside
              -3e2,
            ]
            [calibration.expert_ffn."qwen3-30b-a3b"]
            tokens = [1, 2]
            """
        let document = try TOMLDocument(parsing: text)
        #expect(document["name"]?.value == .string("a \"quoted\" name"))
        #expect(document["name"]?.line == 2)
        #expect(document["literal"]?.value == .string("C:\\path"))
        #expect(try document.number("bus.h2d_gbps") == 25.2)
        #expect(try document.integer("bus.latency_ns") == 5_000)
        #expect(try document.bool("bus.fast.enabled") == true)
        #expect(try document.numbers("bus.sizes") == [1, 2.5, -300])
        #expect(document["bus.sizes"]?.line == 9)
        #expect(try document.numbers("calibration.expert_ffn.qwen3-30b-a3b.tokens") == [1, 2])
        #expect(document["calibration.expert_ffn.qwen3-30b-a3b.tokens"]?.line == 14)
    }

    @Test("syntax errors name the line and column", arguments: [
        ("a = 1\nb = \"open\n", 2, "not closed"),
        ("a = 1\na = 2\n", 2, "defined twice"),
        ("a = nope\n", 1, "strings need quotes"),
        ("a = 1 b = 2\n", 1, "one key = value per line"),
        ("[[tables]]\n", 1, "arrays of tables"),
        ("x = {a = 1}\n", 1, "inline tables"),
        ("x = [1, 2\n", 2, "expected ',' or ']'"),
    ])
    func errors(text: String, line: Int, message: String) {
        #expect {
            _ = try TOMLDocument(parsing: text)
        } throws: { error in
            guard let error = error as? TOMLError else { return false }
            return error.line == line && error.message.contains(message)
        }
    }

    /// A fuzzer's input nested 100,000 arrays deep once exhausted the recursive reader's stack.
    @Test("arrays nested deeper than 32 are refused at their line, however deep, and 32 still read")
    func deepNesting() throws {
        #expect {
            _ = try TOMLDocument(parsing: "a = 1\nb = " + String(repeating: "[", count: 100_000) + "\n")
        } throws: { error in
            guard let error = error as? TOMLError else { return false }
            return error.line == 2 && error.message.contains("nested more than 32 deep")
        }
        let deepest = String(repeating: "[", count: 32) + "1" + String(repeating: "]", count: 32)
        #expect(try TOMLDocument(parsing: "b = \(deepest)\n")["b"] != nil)
    }

    @Test("a wrong type is reported with the key's line")
    func typeError() throws {
        let document = try TOMLDocument(parsing: "\n\nbandwidth = \"fast\"\n")
        #expect {
            _ = try document.number("bandwidth")
        } throws: { error in
            (error as? TOMLError)?.line == 3 && (error as? TOMLError)?.message.contains("must be a number") == true
        }
    }

    @Test("unknown keys are listed against the valid ones, first by line")
    func unknownKeys() throws {
        let document = try TOMLDocument(parsing: "a = 1\n[t]\nb = 2\nzz = 3\n")
        #expect(throws: Never.self) { try document.rejectUnknownKeys(allowed: ["a", "t.*"]) }
        #expect {
            try document.rejectUnknownKeys(allowed: ["a", "t.b"])
        } throws: { error in
            (error as? TOMLError)?.line == 4 && (error as? TOMLError)?.message.contains("unknown key 't.zz'") == true
        }
    }

    @Test("values print back as TOML that parses to the same values")
    func roundTrip() throws {
        let values: [TOMLValue] = [.string("tab\there \"q\""), .integer(-7), .float(2.5), .float(3), .bool(false), .array([.integer(1), .float(0.5)])]
        let text = values.enumerated().map { "k\($0.offset) = \($0.element)" }.joined(separator: "\n")
        let document = try TOMLDocument(parsing: text)
        for (index, value) in values.enumerated() {
            #expect(document["k\(index)"]?.value == value)
        }
    }
}
