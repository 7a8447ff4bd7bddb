import Foundation
import TestSupport
import Testing

@Suite("moesim cache-curve")
struct CacheCurveCommandTests {
    static let demo = Repository.root + "/traces/demo.sqlite"

    static func json(_ arguments: [String]) throws -> [String: Any] {
        let result = try CLI.run(["cache-curve", "--trace", Self.demo] + arguments + ["--json"])
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test("layer-batch hit rates equal simulate's for every rule at the same budget")
    func layerBatchMatchesSimulate() throws {
        let curve = try Self.json(["--budgets-mib", "4096", "--unit", "layer-batch", "--eviction", "lru,arc,s3fifo,lfu-perfect"])
        let points = try #require(curve["points"] as? [[String: Any]])
        #expect(points.count == 4)
        for point in points {
            let rule = try #require(point["rule"] as? String)
            let simulated = try CLI.run(["simulate", "--trace", Self.demo, "--cache-mib", "4096", "--eviction", rule, "--json"])
            let report = try #require(try JSONSerialization.jsonObject(with: Data(simulated.stdout.utf8)) as? [String: Any])
            #expect(point["hit_rate"] as? Double == report["hit_rate"] as? Double, "\(rule)")
        }
    }

    @Test("a curve of many budgets is non-decreasing for LRU and every request is counted once")
    func lruCurveIsMonotone() throws {
        let curve = try Self.json(["--budgets-experts", "10,50,100,200,400,800,1600"])
        let points = try #require(curve["points"] as? [[String: Any]])
        let rates = points.compactMap { $0["hit_rate"] as? Double }
        #expect(rates.count == 7)
        #expect(rates == rates.sorted())
        #expect(points.allSatisfy { $0["method"] as? String == "stack distances" })
        // 6,144 tokens × 26 layers × top-6, every routed decision one request.
        #expect(curve["requests"] as? Int == 958_464)
    }

    @Test("any --jobs count gives one thread's curve, every request replayed", arguments: ["lookup", "layer-batch"])
    func threadCountChangesNothing(unit: String) throws {
        // 2,000 Mixtral-8x7B tokens: 128,000 routed decisions, one full buffer of the replays
        // (65,536 requests) and a partial one.
        let trace = try CLI.synthesize(model: "mixtral-8x7b", tokens: 2_000, prefill: 16, decode: 48, seed: 2)
        let arguments = ["cache-curve", "--trace", trace, "--budgets-experts", "40,160", "--unit", unit, "--json"]
        let runs = try ["1", "2", "5"].map { try CLI.run(arguments + ["--eviction", "lru,fifo,s3fifo,random,belady", "--jobs", $0]) }
        #expect(runs.allSatisfy { $0.status == 0 }, "\(runs.map(\.stderr))")
        #expect(runs[1].stdout == runs[0].stdout && runs[2].stdout == runs[0].stdout)
        func curve(_ stdout: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        }
        func points(_ stdout: String) throws -> [[String: Any]] { try #require(try curve(stdout)["points"] as? [[String: Any]]) }
        #expect(try points(runs[0].stdout).count == 10)
        // Every buffered request reached the replays, the last partial buffer included.
        if unit == "lookup" { #expect(try curve(runs[0].stdout)["requests"] as? Int == 128_000) }
        // LRU's stack distances, read alongside the replays (unit lookup) or in a pass of their
        // own (LRU alone), give the same hits (79.3% at 160 experts, request by request).
        let alone = try CLI.run(arguments + ["--eviction", "lru"])
        let lru = { (all: [[String: Any]]) in all.filter { $0["rule"] as? String == "lru" }.map { $0["hits"] as? Int } }
        #expect(try lru(points(runs[0].stdout)) == lru(points(alone.stdout)))
        #expect(try lru(points(alone.stdout)).last! ?? 0 > 0)
    }

    @Test("bad rules, units and budgets exit 2 naming the option and the valid values", arguments: [
        (["--budgets-mib", "100", "--eviction", "clock"], "Valid rules: lru"),
        (["--budgets-mib", "100", "--eviction", "pinned"], "unknown eviction rule 'pinned'"),
        (["--budgets-mib", "100", "--unit", "token"], "Valid units: lookup, layer-batch"),
        (["--budgets-mib", "100,-5"], "'-5' is not a positive budget"),
        (["--budgets-mib", "100,100"], "lists no budget or one twice"),
        ([], "Give one of --budgets-mib and --budgets-experts"),
        (["--budgets-mib", "100", "--jobs", "0"], "--jobs must be at least 1"),
    ])
    func badInput(arguments: [String], message: String) throws {
        let result = try CLI.run(["cache-curve", "--trace", Self.demo] + arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
    }
}
