import Foundation

/// Reading JSON sources with errors that name the file and the place.
enum JSONInput {
    /// Parses a whole JSON file.
    static func document(_ file: String) throws -> Any {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw TraceStoreError(file: file, problem: "cannot be read", fix: "Check the path and its permissions.")
        }
        guard !data.isEmpty else { throw TraceStoreError(file: file, problem: "is empty", fix: "Restore the file from its source.") }
        return try parse(data, file: file, place: "")
    }

    /// Parses one JSON value from `data`; `place` says where it came from.
    static func parse(_ data: Data, file: String, place: String) throws -> Any {
        guard String(data: data, encoding: .utf8) != nil else {
            throw TraceStoreError(file: file, place: place, problem: "is not UTF-8 text", fix: "JSON sources must be UTF-8; check --format and the file's encoding.")
        }
        do {
            return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw TraceStoreError(file: file, place: place, problem: "is not valid JSON (\(detail))",
                                  fix: "The file may be truncated or not in this format; check --format.")
        }
    }

    /// A non-negative integer from a JSON number, or nil.
    static func int(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double >= 0, double == double.rounded(), double < 1e15 else { return nil }
        return Int(double)
    }

    /// The JSON files named by `inputs`: files as given, folders' `*.json` in numeric then name order.
    static func files(_ inputs: [String], suffix: String) throws -> [String] {
        var files: [String] = []
        for input in inputs {
            if TraceImport.isFolder(input) {
                let entries = try TraceImport.contents(of: input).filter { $0.hasSuffix(suffix) }
                let sorted = entries.sorted { a, b in
                    let na = Int(a.dropLast(suffix.count)), nb = Int(b.dropLast(suffix.count))
                    if let na, let nb { return na < nb }
                    return a < b
                }
                files += sorted.map { input + "/" + $0 }
            } else {
                files.append(input)
            }
        }
        guard !files.isEmpty else {
            throw TraceStoreError(file: inputs.joined(separator: ", "), problem: "holds no \(suffix) files", fix: "Pass the files or a folder that holds them.")
        }
        return files
    }
}
