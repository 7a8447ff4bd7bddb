import Foundation

/// The sweep report (`moesim report`): one self-contained HTML page with four SVG charts
/// drawn from a results database: TPOT against bus bandwidth per policy; hit rate against
/// cache size with the Belady bound; stall and compute per token per policy; routing
/// fidelity against TPOT for speculative policies. Each chart says which trace (real or
/// synthetic), hardware profile and predictors it shows, and which slice of the other
/// swept parameters it holds fixed.
public struct HTMLReport: Sendable {
    /// The charts, in page order.
    public let charts: [(id: String, chart: SVGChart)]
    /// The database it was drawn from.
    public let source: String

    /// Draws the charts for `rows` read from `source`.
    public init(rows: [ResultRow], source: String) {
        self.source = source
        var charts: [(String, SVGChart)] = []
        let policies = Self.ordered(rows.map(\.policy))
        let lru = rows.filter { $0.eviction != "belady" }
        let largestCache = rows.map(\.cacheBytes).max() ?? 0
        let fastestBus = rows.compactMap(\.busGBps).max()
        func context(_ subset: [ResultRow]) -> String {
            let traces = Self.ordered(subset.map { "\(URL(fileURLWithPath: $0.trace).lastPathComponent) (\($0.traceKind))" })
            let hardware = Self.ordered(subset.map { $0.hardware.components(separatedBy: " (").first ?? $0.hardware })
            let predictors = Self.ordered(subset.map(\.predictor)).filter { $0 != "none" }
            return "trace \(traces.joined(separator: ", ")) · hardware \(hardware.joined(separator: ", ")) · predictor \(predictors.isEmpty ? "none" : predictors.joined(separator: ", "))"
        }
        func cacheLabel(_ bytes: Int) -> String { bytes == 0 ? "no cache" : "cache \(bytes / (1 << 20)) MiB" }

        let busRows = lru.filter { $0.busGBps != nil && $0.cacheBytes == largestCache }
        if !busRows.isEmpty {
            let series = policies.map { policy in
                SVGChart.Series(name: policy, points: busRows.filter { $0.policy == policy }.map { ($0.busGBps!, $0.tpotMs) })
            }.filter { !$0.points.isEmpty }
            charts.append(("tpot-vs-bus", SVGChart(title: "TPOT against host-to-device bandwidth",
                                                   subtitle: context(busRows) + " · \(cacheLabel(largestCache)), LRU",
                                                   xLabel: "bus bandwidth (GB/s)", yLabel: "TPOT (ms)", style: .lines, series: series)))
        }
        let cacheRows = rows.filter { fastestBus == nil || $0.busGBps == fastestBus }
        if Set(cacheRows.map(\.cacheBytes)).count > 1 {
            var series = policies.map { policy in
                SVGChart.Series(name: policy, points: cacheRows.filter { $0.policy == policy && $0.eviction != "belady" }
                    .map { (Double($0.cacheBytes) / Double(1 << 20), $0.hitRate * 100) })
            }.filter { !$0.points.isEmpty }
            let bound = cacheRows.filter { $0.eviction == "belady" || ($0.cacheBytes == 0 && $0.policy == (policies.first ?? "")) }
                .filter { $0.policy == (policies.first ?? "") }
            if bound.contains(where: { $0.eviction == "belady" }) {
                series.append(.init(name: "Belady bound (\(policies.first!))", points: bound.map { (Double($0.cacheBytes) / Double(1 << 20), $0.hitRate * 100) },
                                    dashed: true))
            }
            charts.append(("hit-rate-vs-cache", SVGChart(title: "Expert-cache hit rate against cache size",
                                                         subtitle: context(cacheRows) + (fastestBus.map { " · bus \(Self.number($0)) GB/s" } ?? ""),
                                                         xLabel: "cache size (MiB)", yLabel: "hit rate (%)", style: .lines, series: series)))
        }
        let breakdownRows = lru.filter { $0.cacheBytes == largestCache && (fastestBus == nil || $0.busGBps == fastestBus) }
        let breakdownPolicies = policies.filter { policy in breakdownRows.contains { $0.policy == policy } }
        if !breakdownPolicies.isEmpty {
            func share(_ policy: String, _ stall: Bool) -> Double {
                let row = breakdownRows.first { $0.policy == policy }!
                return row.tpotMs * (stall ? row.stallShare : 1 - row.stallShare)
            }
            let series = [true, false].map { stall in
                SVGChart.Series(name: stall ? "stall (waiting for copies)" : "compute",
                                points: breakdownPolicies.enumerated().map { (Double($0.offset), share($0.element, stall)) })
            }
            charts.append(("stall-compute", SVGChart(title: "Where a token's time goes, per policy",
                                                     subtitle: context(breakdownRows) + " · \(cacheLabel(largestCache)), LRU" + (fastestBus.map { " · bus \(Self.number($0)) GB/s" } ?? ""),
                                                     xLabel: "policy", yLabel: "time per token (ms)", style: .stackedBars, series: series,
                                                     categories: breakdownPolicies)))
        }
        let speculative = rows.filter { $0.fidelity < 1 || $0.policy.contains("specul") }
        if !speculative.isEmpty {
            let series = Self.ordered(speculative.map(\.policy)).map { policy in
                SVGChart.Series(name: policy, points: speculative.filter { $0.policy == policy }.map { ($0.tpotMs, $0.fidelity) })
            }
            charts.append(("fidelity-vs-tpot", SVGChart(title: "Routing fidelity against TPOT, speculative policies",
                                                        subtitle: context(speculative) + " · every swept point",
                                                        xLabel: "TPOT (ms)", yLabel: "fidelity (share of gate weight computed exactly)",
                                                        style: .points, series: series)))
        }
        self.charts = charts
    }

    /// The page.
    public var html: String {
        var page = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>moesim report</title>",
                    "<style>body{font-family:sans-serif;margin:24px;max-width:760px}figure{margin:0 0 32px 0}</style></head><body>",
                    "<h1>moesim sweep report</h1>",
                    "<p>From <code>\(source)</code>. Each chart names its trace (real or synthetic), hardware profile and predictors, and the values at which it holds the other swept parameters.</p>"]
        if charts.isEmpty { page.append("<p>The database has no points to chart.</p>") }
        for (id, chart) in charts { page.append("<figure id=\"\(id)\">\n\(chart.svg)\n</figure>") }
        page.append("</body></html>")
        return page.joined(separator: "\n") + "\n"
    }

    private static func ordered(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
