import Foundation
import Lab
import TOML
import TraceStore

/// Reading a sweep spec file for the sweep commands.
enum SweepSpecFile {
    /// Reads and parses the spec at `path`; errors name the file and line.
    static func load(_ path: String) throws -> SweepSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TraceStoreError(file: path, problem: "cannot be read", fix: "Check the path of the sweep spec.")
        }
        do {
            return try SweepSpec(toml: String(decoding: data, as: UTF8.self), file: path)
        } catch let error as TOMLFileError {
            throw TraceStoreError(file: path, place: error.line > 0 ? "line \(error.line)" : "", problem: error.problem, fix: "Fix the sweep spec.")
        }
    }

    /// `path` made absolute against the current folder, without `.` and `..` parts.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
