import ArgumentParser
import Foundation
import Lab
import TraceStore

/// `moesim export`: results in forms other tools open.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a sweep's results for other tools (a Jupyter notebook).",
        subcommands: [ExportNotebookCommand.self])
}

struct ExportNotebookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notebook",
        abstract: "Write a Jupyter notebook that loads a results database with pandas and draws the report's plots with matplotlib.",
        discussion: """
            The notebook opens the database by its path relative to the notebook's folder, so keep the two \
            together or edit DATABASE in its first code cell. Run it with Jupyter, or headless: \
            jupyter nbconvert --to notebook --execute NAME.ipynb
            """)

    @Argument(help: "The results database (from `moesim sweep`).")
    var results: String

    @Option(name: .shortAndLong, help: "The notebook to write (.ipynb); its folder is created if missing.")
    var output: String

    func run() throws {
        guard output.hasSuffix(".ipynb") else {
            throw ValidationError("-o \(output): a notebook's name must end in .ipynb (Jupyter opens nothing else); e.g. -o notebooks-export/NAME.ipynb")
        }
        try AtomicFile.refuseOverwriting(inputs: [results], output: output)
        let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
        let notebook = try SweepNotebook.read(from: results, databasePath: SweepNotebook.path(of: results, from: folder))
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TraceStoreError(file: folder, problem: "cannot be created (\(error.localizedDescription))",
                                  fix: "Choose an output path in a writable folder.")
        }
        try AtomicFile.write(notebook.notebook.json, to: output)
        print("wrote \(output): \(notebook.notebook.cells.count) cells reading \(SweepNotebook.path(of: results, from: folder))")
    }
}
