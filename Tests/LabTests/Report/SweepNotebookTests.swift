import Foundation
@testable import Lab
import Testing
import TestSupport

@Suite("Notebook export") struct SweepNotebookTests {
    @Test func notebookJSONHasJupyterLayoutAndKeepsEveryCharacterOfTheSources() throws {
        let source = "print(\"a\\tb\")  # quote \" backslash \\ tab \t bell \u{07} · µs\nx = 1\n"
        let notebook = JupyterNotebook(cells: [.init(id: "intro", kind: .markdown, source: "# Title\n\ntext"),
                                              .init(id: "code", kind: .code, source: source)])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(notebook.json.utf8)) as? [String: Any])
        #expect(json["nbformat"] as? Int == 4 && json["nbformat_minor"] as? Int == 5)
        let cells = try #require(json["cells"] as? [[String: Any]])
        #expect(cells.map { $0["id"] as? String } == ["intro", "code"])
        #expect(cells.map { $0["cell_type"] as? String } == ["markdown", "code"])
        #expect(cells[0]["source"] as? [String] == ["# Title\n", "\n", "text"])
        #expect((cells[1]["source"] as? [String])?.joined() == source)
        #expect(cells[1]["source"] as? [String] == ["print(\"a\\tb\")  # quote \" backslash \\ tab \t bell \u{07} · µs\n", "x = 1\n"])
        #expect((cells[1]["outputs"] as? [Any])?.isEmpty == true && cells[1]["execution_count"] is NSNull)
        #expect(cells[0]["outputs"] == nil)
    }

    @Test(arguments: [
        ("/a/b/results.sqlite", "/a/b", "results.sqlite"),
        ("/a/b/results.sqlite", "/a/c/d", "../../b/results.sqlite"),
        ("/a/b/./x/../results.sqlite", "/a/b/", "results.sqlite"),
        ("/a/results.sqlite", "/z/notebooks", "/a/results.sqlite"),
    ])
    func theDatabasePathLeadsFromTheNotebookFolder(database: String, folder: String, expected: String) {
        #expect(SweepNotebook.path(of: database, from: folder) == expected)
    }

    @Test func theIntroductionSaysWhichTraceHardwareAndPredictorsTheSweepAssumed() {
        let rows = [HTMLReportTests.row("on-demand", bus: 25, cache: 1024, tpot: 50),
                    HTMLReportTests.row("cross-layer-gate", bus: 25, cache: 1024, tpot: 40)]
        let meta = ["spec_name": "bus sweep", "points_total": "4", "created_by": "0.1.0", "schema_version": "1"]
        let notebook = SweepNotebook(rows: rows, meta: meta, databasePath: "../r.sqlite").notebook
        let intro = notebook.cells[0].source
        #expect(intro.contains("# moesim sweep: bus sweep"))
        #expect(intro.contains("held 2 of the spec's 4 points"))
        #expect(intro.contains("`real.sqlite` (real)"))
        #expect(intro.contains("rtx-a6000 (preset: NVIDIA RTX A6000, datasheet figures)"))
        #expect(intro.contains("none, parametric r=0.90"))
        #expect(notebook.cells[1].source.contains("DATABASE = Path(\"../r.sqlite\")"))
    }

    @Test func exportingToANameWithoutIpynbFailsAndWritesNothing() throws {
        let folder = Repository.temporaryFolder()
        let result = try CLI.run(["export", "notebook", Repository.root + "/notebooks-export/demo-sweep.sqlite", "-o", folder + "/n.json"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("n.json") && result.stderr.contains(".ipynb"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test func exportingATraceInsteadOfResultsNamesTheFileAndWritesNothing() throws {
        let folder = Repository.temporaryFolder()
        let trace = Repository.root + "/traces/demo.sqlite"
        let result = try CLI.run(["export", "notebook", trace, "-o", folder + "/n.ipynb"])
        #expect(result.status == 2)
        #expect(result.stderr.contains(trace) && result.stderr.contains("not a moesim results database"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test func theCheckedInExampleIsTheExportOfTheBundledDemoSweep() throws {
        let folder = Repository.root + "/notebooks-export"
        let fresh = try SweepNotebook.read(from: folder + "/demo-sweep.sqlite", databasePath: "demo-sweep.sqlite").notebook
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/demo-sweep.ipynb"))
        let checkedIn = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cells = try #require(checkedIn["cells"] as? [[String: Any]])
        #expect(cells.map { $0["id"] as? String } == fresh.cells.map(\.id))
        for (cell, expected) in zip(cells, fresh.cells) {
            #expect((cell["source"] as? [String])?.joined() == expected.source,
                    "cell \(expected.id) differs: run `make notebook-example` to export it again")
        }
    }

    @Test func theExportedNotebookRunsUnderJupyterAndDrawsTheReportsSeries() throws {
        guard let jupyter = CLI.find("jupyter") else {
            Issue.record("jupyter is not on PATH: pip install -r notebooks-export/requirements.txt (.ci/run installs it in a venv)")
            return
        }
        let results = try DemoSweepResults.database()
        let folder = Repository.temporaryFolder() + "/notebooks"
        let export = try CLI.run(["export", "notebook", results, "-o", folder + "/demo.ipynb"])
        #expect(export.status == 0, "\(export.stderr)")

        // The test's own last cell writes what each chart drew, to compare with the HTML report.
        var notebook = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/demo.ipynb"))) as? [String: Any])
        var cells = try #require(notebook["cells"] as? [[String: Any]])
        cells.append(["cell_type": "code", "execution_count": NSNull(), "id": "test-dump", "metadata": [String: Any](), "outputs": [Any](),
                      "source": ["import json\n", "json.dump({c: {n: [[float(x), float(y)] for x, y in s] for n, s in d.items()} for c, d in charts.items()}, open(\"series.json\", \"w\"))\n"]])
        notebook["cells"] = cells
        try JSONSerialization.data(withJSONObject: notebook).write(to: URL(fileURLWithPath: folder + "/demo.ipynb"))
        let run = try CLI.run(program: jupyter, ["nbconvert", "--to", "notebook", "--execute", "demo.ipynb", "--output", "executed.ipynb"], in: folder)
        try #require(run.status == 0, "nbconvert failed: \(run.stderr)")

        let executed = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/executed.ipynb"))) as? [String: Any])
        var images: [String] = []
        for cell in executed["cells"] as? [[String: Any]] ?? [] {
            for output in cell["outputs"] as? [[String: Any]] ?? [] {
                #expect(output["output_type"] as? String != "error")
                if (output["data"] as? [String: Any])?["image/png"] != nil { images.append(cell["id"] as? String ?? "?") }
            }
        }
        #expect(images == ["tpot-vs-bus", "hit-rate-vs-cache", "stall-compute", "fidelity-vs-tpot", "layer-hit-rate"])

        let drawn = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/series.json"))) as? [String: [String: [[Double]]]])
        let report = HTMLReport(rows: try ResultRow.read(from: results), source: results)
        #expect(Set(drawn.keys) == Set(report.charts.map(\.id) + ["layer-hit-rate"]))
        #expect(drawn["layer-hit-rate"]?.keys.sorted() == ["default-vector-speculation", "on-demand"])
        for (id, chart) in report.charts {
            let notebookSeries = try #require(drawn[id])
            #expect(notebookSeries.keys.sorted() == chart.series.map(\.name).sorted(), "\(id)")
            for series in chart.series {
                let expected = series.points.map { [$0.x, $0.y] }.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }
                let actual = (notebookSeries[series.name] ?? []).sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }
                #expect(actual.count == expected.count && zip(actual, expected).allSatisfy { a, e in
                    zip(a, e).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) }
                }, "\(id) / \(series.name): notebook \(actual), report \(expected)")
            }
        }
    }
}
