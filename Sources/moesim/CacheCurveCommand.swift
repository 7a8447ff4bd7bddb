import ArgumentParser
import Foundation
import Lab
import OffloadSim
import TraceStore

struct CacheCurveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache-curve", abstract: "Hit rates of eviction rules at many cache budgets, without timing, at cache-simulator speed.",
        discussion: """
            --unit lookup counts every routed (token, layer, expert) as a request in trace order with no protection \
            of a batch's experts, the convention of general cache simulators such as libCacheSim; --unit layer-batch \
            counts one request per distinct expert per layer batch, as `simulate` does. LRU's whole curve comes from \
            one pass of stack distances (Mattson et al. 1970); other rules are replayed per budget, all in one more \
            pass; Belady's optimum from a next-use pre-pass.
            """)

    @Option(help: "The trace file.")
    var trace: String

    @Option(help: "Model preset; optional when the trace carries its shape and expert sizes.")
    var model: String?

    @Option(help: "Size experts as the preset in this type (bf16, fp8, mxfp4) instead of the trace's sizes.")
    var expertDtype: String?

    @Option(help: "Comma-separated eviction rules: \(CacheCurve.rules.map(\.rawValue).joined(separator: ", ")).")
    var eviction = "lru"

    @Option(name: .customLong("budgets-mib"), help: "Comma-separated cache budgets in MiB.")
    var budgetsMiB: String?

    @Option(name: .customLong("budgets-experts"), help: "Comma-separated cache budgets in experts (of the largest expert size).")
    var budgetsExperts: String?

    @Option(help: "What a request is: lookup (every routed decision, trace order) or layer-batch (as simulate counts).")
    var unit = CacheRequestUnit.lookup.rawValue

    @Option(help: "Order of a token's or batch's experts: rank (trace order; the default for lookup) or id (the default for layer-batch).")
    var lookupOrder: String?

    @Option(help: "When a layer batch's misses enter (layer-batch): hard-cap or after-batch.")
    var admission = CacheAdmission.hardCap.rawValue

    @Option(parsing: .unconditional, help: "Sequences per batch (layer-batch).")
    var batch = 1

    @Flag(help: "Replay prompt tokens one per step and count them as decode.")
    var prefillAsDecode = false

    @Flag(help: "Report hit rates over decode requests only (every request still updates the cache).")
    var decodeOnly = false

    @Option(parsing: .unconditional, help: "Seed of the random rule.")
    var seed: UInt64 = 1

    @Option(help: "Threads that replay the rules and budgets (default: the number of cores); any count gives the same result.")
    var jobs = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1.") }
        guard (budgetsMiB == nil) != (budgetsExperts == nil) else {
            throw ValidationError("Give one of --budgets-mib and --budgets-experts.")
        }
        try OptionRange.check(batch, ValidRange.batch, "--batch")
    }

    func run() throws {
        let reader = try TraceReader(path: trace)
        let shape = reader.metadata.shape
        let preset = try model.map { try ModelPreset.require($0) } ?? ModelPreset.named(shape.name)
        let dtype = try expertDtype.map { name -> ExpertDType in
            guard let type = ExpertDType(rawValue: name) else {
                throw TraceStoreError(file: "--expert-dtype", problem: "unknown type '\(name)'",
                                      fix: "Valid types: \(ExpertDType.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            return type
        }
        let expertBytes = try ModelCost.resolve(shape: shape, preset: preset, dtype: dtype).expertBytes
        let largest = expertBytes.max()!
        let rules = try eviction.split(separator: ",").map { name -> EvictionPolicy in
            let text = name.trimmingCharacters(in: .whitespaces).lowercased()
            guard let rule = EvictionPolicy(rawValue: text), CacheCurve.rules.contains(rule) else {
                throw TraceStoreError(file: "--eviction", problem: "unknown eviction rule '\(text)'",
                                      fix: "Valid rules: \(CacheCurve.rules.map(\.rawValue).joined(separator: ", ")).")
            }
            return rule
        }
        guard let requestUnit = CacheRequestUnit(rawValue: unit) else {
            throw TraceStoreError(file: "--unit", problem: "unknown unit '\(unit)'", fix: "Valid units: lookup, layer-batch.")
        }
        let order = try lookupOrder.map { name -> LookupOrder in
            guard let order = LookupOrder(rawValue: name) else {
                throw TraceStoreError(file: "--lookup-order", problem: "unknown order '\(name)'", fix: "Valid orders: id, rank.")
            }
            return order
        } ?? (requestUnit == .lookup ? .rank : .id)
        guard let admitted = CacheAdmission(rawValue: admission) else {
            throw TraceStoreError(file: "--admission", problem: "unknown admission '\(admission)'", fix: "Valid admissions: hard-cap, after-batch.")
        }
        let budgets = try parseBudgets(largest: largest)
        let lookups = CacheLookups(source: reader, unit: requestUnit, order: order, batchSize: batch, prefillAsDecode: prefillAsDecode)
        let result = try CacheCurve.run(lookups, expertBytes: expertBytes, rules: rules, budgets: budgets, admission: admitted, seed: seed,
                                        threads: jobs)
        let total = decodeOnly ? result.decodeRequests : result.requests
        func rate(_ point: CacheCurve.Point) -> Double? {
            total == 0 ? nil : Double(decodeOnly ? point.decodeHits : point.hits) / Double(total)
        }
        if json {
            struct Row: Encodable {
                var rule: String, budgetBytes: Int, budgetExperts: Double, hits: Int, hitRate: Double?, method: String
                enum CodingKeys: String, CodingKey {
                    case rule, budgetBytes = "budget_bytes", budgetExperts = "budget_experts", hits, hitRate = "hit_rate", method
                }
            }
            struct Output: Encodable {
                var trace: String, traceKind: String, model: String, unit: String, lookupOrder: String, admission: String
                var decodeOnly: Bool, requests: Int, decodeRequests: Int, largestBatchBytes: Int, points: [Row]
                enum CodingKeys: String, CodingKey {
                    case trace, traceKind = "trace_kind", model, unit, lookupOrder = "lookup_order", admission, decodeOnly = "decode_only"
                    case requests, decodeRequests = "decode_requests", largestBatchBytes = "largest_batch_bytes", points
                }
            }
            let rows = result.points.map { point in
                Row(rule: point.rule.rawValue, budgetBytes: point.budgetBytes, budgetExperts: Double(point.budgetBytes) / Double(largest),
                    hits: decodeOnly ? point.decodeHits : point.hits, hitRate: rate(point), method: point.method)
            }
            print(try JSONOutput.encode(Output(
                trace: trace, traceKind: reader.metadata.provenanceLabel, model: shape.name, unit: requestUnit.rawValue, lookupOrder: order.rawValue,
                admission: admitted.rawValue, decodeOnly: decodeOnly, requests: result.requests, decodeRequests: result.decodeRequests,
                largestBatchBytes: result.largestBatchBytes, points: rows)))
            return
        }
        print("trace      \(trace)  [\(reader.metadata.provenanceLabel.uppercased())]")
        print("model      \(shape.name); \(Format.bytes(largest)) per expert (largest layer)")
        print("requests   \(total) \(decodeOnly ? "decode " : "")requests, unit \(requestUnit.rawValue), \(order.rawValue) order\(requestUnit == .layerBatch ? ", admission \(admitted.rawValue), batch \(batch)" : "")")
        print("")
        print("budget".rightPadded(28) + rules.map { $0.rawValue.leftPadded(12) }.joined())
        for budget in budgets.sorted() {
            let label = "\(Format.bytes(budget)) (\(Format.fixed(Double(budget) / Double(largest), 1)) experts)"
            let cells = rules.map { rule -> String in
                guard let point = result.point(rule, budget), let value = rate(point) else { return "—".leftPadded(12) }
                return (Format.fixed(value * 100, 2) + "%").leftPadded(12)
            }
            print(label.rightPadded(28) + cells.joined())
        }
        if rules.contains(.lru) {
            let onePass = result.points.filter { $0.rule == .lru && $0.method == "stack distances" }.count
            print("note: LRU from stack distances in one pass at \(onePass) of \(budgets.count) budgets" +
                  (onePass < budgets.count ? "; replayed below the largest layer batch (\(Format.bytes(result.largestBatchBytes)))" : ""))
        }
    }

    private func parseBudgets(largest: Int) throws -> [Int] {
        let (text, option, unit) = budgetsMiB.map { ($0, "--budgets-mib", Double(Units.mebibyte)) } ?? (budgetsExperts!, "--budgets-experts", Double(largest))
        let budgets = try text.split(separator: ",").map { item -> Int in
            guard let value = Double(item.trimmingCharacters(in: .whitespaces)), value > 0, value.isFinite, value * unit <= Double(1 << 60) else {
                throw TraceStoreError(file: option, problem: "'\(item)' is not a positive budget",
                                      fix: "Give comma-separated positive numbers, e.g. \(option) 1024,2048,4096.")
            }
            return Int((value * unit).rounded())
        }
        guard !budgets.isEmpty, Set(budgets).count == budgets.count else {
            throw TraceStoreError(file: option, problem: "lists no budget or one twice", fix: "Give distinct comma-separated budgets.")
        }
        return budgets
    }
}
