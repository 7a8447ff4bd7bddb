import TOML

extension ServingEngine {
    /// The term key an engine file writes for `name`: a full key (`execution.cpu_experts_below_tokens`)
    /// or its name alone (`cpu_experts_below_tokens`; every term's name is unique); nil for neither.
    public static func termKey(named name: String) -> String? {
        if termKeys.contains(name) { return name }
        return termKeys.first { $0.hasSuffix("." + name) }
    }

    /// The engine with each of `assignments` in place of its own value, read exactly as the
    /// same line in its file would be (``init(toml:file:)``: the same ranges and the same
    /// checks between terms), so an edit on the command line and an edit of the file agree.
    /// The engine's display name lists what was set, and each set term's source says it was
    /// set by `origin` (e.g. `--engine-set`), so every result names the engine it ran.
    ///
    /// A value is written into the file as it is when it reads as a number or is already
    /// quoted, and quoted otherwise (`id-run`, `sync + copy_call`).
    ///
    /// - Throws: ``TOMLFileError`` of file `origin`, line 0, for a key that names no term or a
    ///   value the file would refuse.
    public func setting(_ assignments: [(key: String, value: String)], origin: String) throws -> ServingEngine {
        guard !assignments.isEmpty else { return self }
        var lines = tomlText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var described: [String] = []
        var keys: [String] = []
        for (name, value) in assignments {
            guard let key = Self.termKey(named: name) else {
                throw TOMLFileError(file: origin, line: 0, problem: "'\(name)' names no engine term; valid: "
                                    + Self.termKeys.map { String($0.split(separator: ".")[1]) }.joined(separator: ", "))
            }
            let parts = key.split(separator: ".").map(String.init)
            let literal = Double(value) != nil || value.hasPrefix("\"") ? value : TOMLValue.quoted(value)
            // Every term has a line in its table of the generated file; replace that line.
            var table = ""
            for index in lines.indices {
                let line = lines[index]
                if line.hasPrefix("[") { table = String(line.dropFirst().prefix { $0 != "]" }) }
                if table == parts[0] && line.hasPrefix(parts[1] + " = ") { lines[index] = "\(parts[1]) = \(literal)" }
            }
            described.append("\(key) = \(literal)")
            keys.append(parts[1])
        }
        var engine: ServingEngine
        do {
            engine = try ServingEngine(toml: lines.joined(separator: "\n"), file: origin)
        } catch let error as TOMLFileError {
            throw TOMLFileError(file: origin, line: 0, problem: error.problem)
        }
        engine.displayName += "; set: " + described.joined(separator: ", ")
        for key in keys { engine.sources[key] = "set by \(origin)" }
        return engine
    }
}
