import ArgumentParser
import Lab
import TraceStore

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Draw a sweep's results database as one self-contained HTML page of SVG charts.")

    @Argument(help: "The results database (from `moesim sweep`).")
    var results: String

    @Option(name: .shortAndLong, help: "The HTML file to write.")
    var output: String

    func run() throws {
        try AtomicFile.refuseOverwriting(inputs: [results], output: output)
        let report = HTMLReport(rows: try ResultRow.read(from: results), source: results)
        try AtomicFile.write(report.html, to: output)
        print("wrote \(output): \(report.charts.map(\.id).joined(separator: ", "))")
    }
}
