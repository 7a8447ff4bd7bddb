import Foundation
import Lab
import TestSupport
import Testing

@Suite("moesim reproduce")
struct ReproduceCommandTests {
    @Test("moesim reproduce lists the reproductions in reproductions/")
    func lists() throws {
        let result = try CLI.run(["reproduce"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("2603.19289") && result.stdout.contains("Speculating Experts"))
    }

    /// Runs the 2603.19289 reproduction on a short synthetic Qwen3 trace and checks that every
    /// row is computed as its file says: not the paper's numbers, the arithmetic.
    @Test("2603.19289's rows are the runs' figures, reductions and differences as the file defines them")
    func arithmetic() throws {
        let trace = Repository.temporaryFolder() + "/qwen.sqlite"
        let made = try CLI.run(["trace", "synth", "--model", "qwen3-30b-a3b", "--tokens", "24", "--prefill", "2", "--decode", "4",
                                "--seed", "5", "-o", trace])
        #expect(made.status == 0)
        let result = try CLI.run(["reproduce", "2603.19289", "--trace", trace, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let rows = try #require(object["rows"] as? [[String: Any]])
        let runs = try #require(object["runs"] as? [[String: Any]])
        func report(_ name: String) throws -> [String: Any] {
            try #require(runs.first { $0["name"] as? String == name }?["report"] as? [String: Any])
        }
        func number(_ row: [String: Any], _ key: String) throws -> Double { try #require(row[key] as? Double) }
        #expect(rows.map { $0["figure"] as? String } == [
            "on-demand TPOT, 1k context", "speculation TPOT, 1k context", "TPOT reduction, 1k context",
            "on-demand TPOT, 64k context", "speculation TPOT, 64k context", "TPOT reduction, 64k context",
            "on-demand TPOT in expert copies, 1k", "on-demand TPOT in expert copies, 64k",
        ])
        #expect(try rows.map { try number($0, "published") } == [158.9, 144.4, 9.1, 169.4, 146.0, 13.8, 86, 86])
        for row in rows {
            let simulated = try number(row, "simulated"), published = try number(row, "published")
            #expect(abs(try number(row, "difference_pct") - (simulated - published) / published * 100) < 1e-9)
            #expect(row["source"] as? String != nil)
        }
        let onDemand = try #require(try report("on-demand-1k")["tpot_ms"] as? Double)
        let speculation = try #require(try report("speculation-1k")["tpot_ms"] as? Double)
        #expect(try number(rows[0], "simulated") == onDemand)
        #expect(abs(try number(rows[2], "simulated") - (onDemand - speculation) / onDemand * 100) < 1e-9)
        #expect(abs(try number(rows[6], "simulated") - 100 * (try #require(try report("on-demand-1k")["bus_busy_share"] as? Double))) < 1e-9)
        #expect(rows[6]["published_low"] as? Double == 84 && rows[6]["published_high"] as? Double == 88)
        // Every run says what it assumed: the short trace, the YALIS engine, the A6000 preset.
        let assumed = try #require(try report("speculation-64k")["run"] as? [String: Any])
        #expect(assumed["trace"] as? String == trace)
        #expect((assumed["engine"] as? String)?.hasPrefix("yalis") == true)
        #expect((assumed["hardware"] as? String)?.hasPrefix("rtx-a6000") == true)
        // A longer context slows the on-demand run.
        #expect(try number(rows[3], "simulated") > onDemand)
    }

    @Test("a row naming a run the file does not define is refused with its line")
    func unknownRun() throws {
        let text = """
            id = "x"
            [trace]
            path = "t.sqlite"
            [runs.a]
            policy = "on-demand"
            [rows.r]
            figure = "f"
            published = 1
            run = "b"
            metric = "tpot_ms"
            """
        #expect {
            _ = try Reproduction(toml: text, file: "x.toml")
        } throws: { error in
            String(describing: error).contains("x.toml:9: row 'r' names run 'b'")
        }
    }
}
