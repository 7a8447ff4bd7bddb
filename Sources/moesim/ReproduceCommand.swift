import ArgumentParser
import Foundation
import Lab
import TraceStore

struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce", abstract: "List the reproductions of published tables, or run one and print published beside simulated.",
        discussion: """
            A reproduction is a file in reproductions/ (TOML): the paper, its setup, the runs standing for its \
            configurations and, per published figure, how the simulated figure is computed. No constant in it is \
            fitted to the published figures; where the model misses, the file's notes name the term it lacks.
            """)

    @Argument(help: "The reproduction's id (e.g. 2603.19289) or a reproduction file; leave out to list them.")
    var id: String?

    @Option(help: "Run on this trace instead of the reproduction's own (e.g. a shorter one).")
    var trace: String?

    @Flag(help: "Print JSON: a list of rows with keys figure, unit, published, simulated, difference_pct, source (and the runs' reports).")
    var json = false

    func run() throws {
        guard let id else { return try list() }
        let path = id.hasSuffix(".toml") ? id : try Self.folder() + "/\(id).toml"
        guard FileManager.default.fileExists(atPath: path) else {
            throw TraceStoreError(file: path, problem: "no such reproduction",
                                  fix: "Run `moesim reproduce` for the list, or give a reproduction file.")
        }
        let reproduction = try Reproduction(path: path)
        let result = try reproduction.run(trace: trace)
        if json {
            print(try JSONOutput.encode(result))
            return
        }
        let first = result.runs[0].report.run
        print("""
            reproduction \(reproduction.id): \(reproduction.title)
            paper        \(reproduction.paper)
            setup        \(reproduction.setup)
            trace        \(result.trace)
            model        \(first.model); hardware \(first.hardware); engine \(first.engine)

            """)
        print(result.table)
        print("")
        for named in result.runs {
            print("run \(named.name): policy \(named.report.run.policy) (predictor \(named.report.run.predictor)), TPOT \(named.report.metrics.tpot.mean.map { Format.fixed($0 / 1e6, 3) + " ms" } ?? "n/a")")
        }
        for row in result.rows { print("source of '\(row.figure)': \(row.source)") }
        for note in reproduction.notes { print("note: \(note)") }
    }

    private func list() throws {
        let folder = try Self.folder()
        let files = (try FileManager.default.contentsOfDirectory(atPath: folder)).filter { $0.hasSuffix(".toml") }.sorted()
        print("id              rows  title")
        for file in files {
            let reproduction = try Reproduction(path: folder + "/" + file)
            print(reproduction.id.rightPadded(15) + " " + String(reproduction.rows.count).leftPadded(4) + "  " + reproduction.title)
        }
    }

    /// `reproductions/` in the working folder, else in the repository the executable was built in.
    static func folder() throws -> String {
        let here = FileManager.default.currentDirectoryPath + "/reproductions"
        var candidates = [here]
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<4 {
            url.deleteLastPathComponent()
            candidates.append(url.path + "/reproductions")
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/README.md") }) else {
            throw TraceStoreError(file: here, problem: "no reproductions folder here or beside the moesim executable",
                                  fix: "Run from the moesim repository, or give a reproduction file (ID.toml).")
        }
        return found
    }
}
