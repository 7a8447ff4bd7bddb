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
        let trace = try CLI.synthesize(model: "qwen3-30b-a3b", tokens: 24, prefill: 2, decode: 4, seed: 5)
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

    /// Runs the 2605.11537 reproduction on a short synthetic Switch encoder trace: speed-ups
    /// are the baseline's latency over replication's, utilisations the busy share in percent.
    @Test("2605.11537's speed-up rows divide the baseline's latency by replication's")
    func speedups() throws {
        let trace = try CLI.synthesize(model: "switch-base-128-encoder", tokens: 512, prefill: 16, decode: 0, seed: 2, level: 1)
        let result = try CLI.run(["reproduce", "2605.11537", "--trace", trace, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let rows = try #require(object["rows"] as? [[String: Any]])
        let runs = try #require(object["runs"] as? [[String: Any]])
        func figure(_ run: String, _ key: String) throws -> Double {
            let report = try #require(runs.first { $0["name"] as? String == run }?["report"] as? [String: Any])
            return try #require(report[key] as? Double)
        }
        func simulated(_ figure: String) throws -> Double {
            try #require(rows.first { $0["figure"] as? String == figure }?["simulated"] as? Double)
        }
        #expect(try simulated("GPU utilisation, HF baseline, batch 128") == 100 * (try figure("baseline-b128", "gpu_busy_share")))
        // As the artifact counts it, the model's load is in the block: lower than the forwards alone.
        for (run, system) in [("baseline-b128", "HF baseline"), ("replication-b128", "replication")] {
            let withLoad = try simulated("GPU utilisation with the model's load, \(system), batch 128")
            #expect(withLoad == 100 * (try figure(run, "gpu_busy_share_with_load")))
            let (busy, load) = (try figure(run, "gpu_busy_share"), try figure(run, "model_load_ms"))
            #expect(withLoad < 100 * busy && load > 0)
        }
        for batch in [1, 4, 16] {
            let expected = try figure("baseline-b\(batch)", "ttft_ms") / (try figure("replication-b\(batch)", "ttft_ms"))
            #expect(abs(try simulated("latency speed-up over HF, batch \(batch)") - expected) < 1e-12)
        }
        // The baseline waits on the host before every expert; the concurrent engine does not.
        #expect(try figure("baseline-b1", "host_wait_share") > 2 * (try figure("replication-b1", "host_wait_share")))
        // Replication executes the predicted experts: fidelity below 1 with recall 0.994.
        #expect(try figure("replication-b1", "fidelity") < 1)
    }

    @Test("a row giving both reduction_from and speedup_from is refused with its line")
    func reductionAndSpeedup() throws {
        let text = """
            id = "x"
            [trace]
            path = "t.sqlite"
            [runs.a]
            policy = "on-demand"
            [rows.r]
            figure = "f"
            published = 1
            run = "a"
            metric = "tpot_ms"
            reduction_from = "a"
            speedup_from = "a"
            """
        #expect {
            _ = try Reproduction(toml: text, file: "x.toml")
        } throws: { error in
            String(describing: error).contains("x.toml:12: row 'r' gives both reduction_from and speedup_from")
        }
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

    /// A reproduction whose trace is a synthesis recipe runs on a trace in a temporary folder
    /// named after the process; its reports name the recipe, so that two runs print the same.
    @Test("a synthesised trace is reported as its recipe, not as the temporary file, and reruns print the same bytes")
    func synthesisedTraceIsNamedByItsRecipe() throws {
        let text = """
            id = "t"
            title = "t"
            paper = "t"
            setup = "t"
            [trace]
            synthesize = "qwen3-30b-a3b"
            tokens = 24
            prefill = 2
            decode = 4
            seed = 5
            [base]
            hardware = "rtx-a6000"
            [runs.a]
            policy = "on-demand"
            [rows.r]
            figure = "TPOT"
            unit = "ms"
            published = 1.0
            source = "test"
            run = "a"
            metric = "tpot_ms"
            """
        let reproduction = try Reproduction(toml: text, file: "t.toml")
        let first = try reproduction.run()
        let trace = first.runs[0].report.run.trace
        #expect(trace.hasPrefix("synthesised: `moesim trace synth --model qwen3-30b-a3b --tokens 24"))
        #expect(trace.hasSuffix("--seed 5`") && !trace.contains("moesim-reproduce"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(try encoder.encode(first.runs[0].report) == encoder.encode(try reproduction.run().runs[0].report))
    }
}
