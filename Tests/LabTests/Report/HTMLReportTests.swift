import Foundation
@testable import Lab
import Testing
import TestSupport

@Suite("Sweep report") struct HTMLReportTests {
    static func row(_ policy: String, bus: Double, cache: Int, eviction: String = "lru", tpot: Double, hit: Double = 0.5,
                    fidelity: Double = 1) -> ResultRow {
        ResultRow(busGBps: bus, cacheBytes: cache << 20, eviction: eviction, policy: policy,
                  predictor: policy == "on-demand" ? "none" : "parametric r=0.90", hardware: "rtx-a6000 (preset: NVIDIA RTX A6000, datasheet figures)",
                  trace: "/x/real.sqlite", traceKind: "real", tpotMs: tpot, stallShare: 0.8, hitRate: hit, fidelity: fidelity)
    }

    @Test func eachChartCarriesItsSeriesAndSaysWhatItAssumed() {
        let rows = [
            Self.row("on-demand", bus: 25, cache: 1024, tpot: 50), Self.row("on-demand", bus: 50, cache: 1024, tpot: 30),
            Self.row("on-demand", bus: 50, cache: 512, tpot: 40, hit: 0.2),
            Self.row("on-demand", bus: 50, cache: 512, eviction: "belady", tpot: 35, hit: 0.4),
            Self.row("on-demand", bus: 50, cache: 1024, eviction: "belady", tpot: 25, hit: 0.7),
            Self.row("default-vector-speculation", bus: 25, cache: 1024, tpot: 45, fidelity: 0.9),
            Self.row("default-vector-speculation", bus: 50, cache: 1024, tpot: 28, fidelity: 0.9),
            Self.row("default-vector-speculation", bus: 50, cache: 512, tpot: 38, hit: 0.15, fidelity: 0.9),
        ]
        let report = HTMLReport(rows: rows, source: "r.sqlite")
        #expect(report.charts.map(\.id) == ["tpot-vs-bus", "hit-rate-vs-cache", "stall-compute", "fidelity-vs-tpot"])
        let names = report.charts.map { $0.chart.series.map(\.name) }
        #expect(names[0] == ["on-demand", "default-vector-speculation"])
        #expect(names[1] == ["on-demand", "default-vector-speculation", "Belady bound (on-demand)"])
        #expect(report.charts[1].chart.series[2].points.map(\.y) == [40, 70])
        #expect(names[2] == ["stall (waiting for copies)", "compute"])
        #expect(names[3] == ["default-vector-speculation"])
        for (_, chart) in report.charts {
            #expect(chart.subtitle.contains("real.sqlite (real)") && chart.subtitle.contains("hardware rtx-a6000"))
        }
        #expect(report.charts[0].chart.subtitle.contains("predictor parametric r=0.90"))
        #expect(report.html.contains("data-series=\"Belady bound (on-demand)\""))
    }

    @Test func theDemoSweepRendersInChromiumWithEverySeriesDrawn() throws {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
            Issue.record("chromium is not installed (apt-get install chromium); .ci/run installs it")
            return
        }
        let results = try DemoSweepResults.database()
        let folder = Repository.temporaryFolder()
        let report = try CLI.run(["report", results, "-o", folder + "/report.html"])
        #expect(report.status == 0, "\(report.stderr)")
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        let figures = html.components(separatedBy: "<figure id=\"").dropFirst()
        #expect(figures.count == 4)
        for figure in figures {
            let id = String(figure.prefix { $0 != "\"" })
            let body = "<figure id=\"" + figure.components(separatedBy: "</figure>")[0] + "</figure>"
            let page = folder + "/\(id).html"
            try "<!DOCTYPE html><html><body style=\"margin:0\">\(body)</body></html>".write(toFile: page, atomically: true, encoding: .utf8)
            let shot = folder + "/\(id).png"
            let render = try CLI.run(program: chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=760,460",
                                                         "--screenshot=\(shot)", "file://\(page)"])
            #expect(render.status == 0, "\(render.stderr)")
            let seriesCount = body.components(separatedBy: "data-series=").count - 1
            let colours = Array(SVGChart.palette.prefix(seriesCount))
            let count = try CLI.run(program: "/usr/bin/env", ["python3", Repository.root + "/Tests/LabTests/Fixtures/png_colours.py", shot] + colours)
            let data = Data(count.stdout.utf8)
            let result = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            #expect((result["non_white"] as! Double) > 0.02, "\(id) looks blank")
            let found = result["colours"] as! [String: Int]
            for colour in colours {
                // More than the legend's 14 × 14 swatch: the series itself was drawn.
                #expect(found[colour]! > 250, "\(id): series in \(colour) not drawn (\(found[colour]!) px)")
            }
            #expect(seriesCount >= (id == "fidelity-vs-tpot" ? 1 : 2), "\(id) has \(seriesCount) series")
        }
    }
}
