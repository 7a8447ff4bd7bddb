import TOML

/// A sweep: base settings and a grid of parameters to vary (DESIGN.md §5 "sweeps bus and
/// cache parameters"), read from a TOML file:
///
///     name = "bus-and-cache"
///     [base]
///     trace = "traces/demo.sqlite"
///     hardware = "rtx-a6000"
///     [grid]
///     bus_gbps = [12.6, 25.2, 50.4]
///     cache_mib = [0, 2048, 8192]
///
/// Points are the Cartesian product of the grid, enumerated in a fixed order (parameters by
/// name, values as listed), so that a point's index and identity are the same on every run,
/// shard and machine.
public struct SweepSpec: Sendable, Equatable {
    /// The sweep's name.
    public var name: String
    /// Settings shared by every point.
    public var base: [SweepParameter: SweepValue]
    /// Parameters varied, in enumeration order, each with its values.
    public var grid: [(parameter: SweepParameter, values: [SweepValue])]
    /// The spec file ("" when built in code), for errors.
    public var file = ""
    /// The key and line that set each parameter in ``file`` ("grid.cache_mib", 7), for errors.
    public var keyLines: [SweepParameter: (key: String, line: Int)] = [:]
    /// The spec's `max_points`: the size its author expects, which lets a sweep above
    /// ``ValidRange/sweepPointsWithoutAsking`` points run without `--yes` (nil: not given).
    public var maxPoints: Int?

    public static func == (a: SweepSpec, b: SweepSpec) -> Bool { a.canonicalJSON == b.canonicalJSON }

    /// Creates a spec.
    public init(name: String, base: [SweepParameter: SweepValue], grid: [(parameter: SweepParameter, values: [SweepValue])]) {
        self.name = name
        self.base = base
        self.grid = grid.sorted { $0.parameter < $1.parameter }
    }

    /// Reads a spec file; errors name the file, the line and the valid parameters.
    public init(toml text: String, file: String) throws {
        let allowed = ["name", "max_points"] + SweepParameter.allCases.flatMap { ["base.\($0.rawValue)", "grid.\($0.rawValue)"] }
        let doc: TOMLDocument
        do {
            doc = try TOMLDocument(parsing: text, file: file, allowed: allowed)
        } catch var error as TOMLFileError where error.problem.hasPrefix("unknown key") {
            error.problem = error.problem.components(separatedBy: ";").first!
                + "; valid parameters (under [base] or [grid]): " + SweepParameter.allCases.map(\.rawValue).joined(separator: ", ")
            throw error
        }
        func fail(_ key: String, _ problem: String) -> TOMLFileError { TOMLFileError(file: file, line: doc.line(of: key), problem: problem) }
        func value(_ raw: TOMLValue, for parameter: SweepParameter, key: String) throws -> SweepValue {
            switch (parameter.kind, raw) {
            case (.string, .string(let text)): return .string(text)
            case (.number, .integer(let number)): return .number(Double(number))
            case (.number, .float(let number)) where number.isFinite: return .number(number)
            case (.integer, .integer(let number)): return .integer(number)
            case (.bool, .bool(let flag)): return .bool(flag)
            default: throw fail(key, "'\(key)' must be \(parameter.kind) (\(parameter.summary)), not \(raw)")
            }
        }
        func checked(_ value: SweepValue, for parameter: SweepParameter, key: String) throws -> SweepValue {
            if let problem = parameter.problem(with: value) { throw fail(key, "'\(key)' \(problem) (\(parameter.summary))") }
            return value
        }
        var keyLines: [SweepParameter: (key: String, line: Int)] = [:]
        var base: [SweepParameter: SweepValue] = [:]
        var grid: [(parameter: SweepParameter, values: [SweepValue])] = []
        for parameter in SweepParameter.allCases {
            let baseKey = "base.\(parameter.rawValue)", gridKey = "grid.\(parameter.rawValue)"
            if let entry = doc[baseKey] {
                base[parameter] = try checked(try value(entry.value, for: parameter, key: baseKey), for: parameter, key: baseKey)
                keyLines[parameter] = (baseKey, entry.line)
            }
            if let entry = doc[gridKey] {
                guard case .array(let items) = entry.value, !items.isEmpty else {
                    throw fail(gridKey, "'\(gridKey)' must be a non-empty array of values")
                }
                let values = try items.map { try checked(try value($0, for: parameter, key: gridKey), for: parameter, key: gridKey) }
                keyLines[parameter] = (gridKey, entry.line)
                guard Set(values).count == values.count else { throw fail(gridKey, "'\(gridKey)' lists a value twice") }
                guard base[parameter] == nil else { throw fail(gridKey, "'\(parameter.rawValue)' is both in [base] and in [grid]") }
                grid.append((parameter, values))
            }
        }
        guard base[.trace] != nil || grid.contains(where: { $0.parameter == .trace }) else {
            throw TOMLFileError(file: file, line: 0, problem: "names no trace: set base.trace or grid.trace")
        }
        guard base[.cacheMiB] == nil || base[.cacheFraction] == nil,
              !(grid.contains { $0.parameter == .cacheMiB } && grid.contains { $0.parameter == .cacheFraction }) else {
            throw TOMLFileError(file: file, line: doc.line(of: "grid.cache_fraction"), problem: "gives both cache_mib and cache_fraction; use one")
        }
        self.init(name: try doc.read("name", file: file, doc.string) ?? "sweep", base: base, grid: grid)
        self.file = file
        self.keyLines = keyLines
        maxPoints = try doc.read("max_points", file: file) { try doc.integer($0, in: 1...Int.max) }
        if let maxPoints, count > maxPoints {
            throw fail("max_points", "the grid has \(count) points, more than its max_points \(maxPoints)")
        }
    }

    /// The trace files the sweep reads: the grid's traces, or the base trace.
    public var traces: [String] {
        grid.first { $0.parameter == .trace }.map { $0.values.compactMap(\.string) } ?? base[.trace].flatMap(\.string).map { [$0] } ?? []
    }

    /// Points in the sweep (saturating at Int.max).
    public var count: Int {
        grid.reduce(1) { product, axis in
            let (next, overflow) = product.multipliedReportingOverflow(by: axis.values.count)
            return overflow ? Int.max : next
        }
    }

    /// Point `index` (0 ..< count): base settings with one value of each grid parameter.
    public func point(_ index: Int) -> SweepPoint {
        var settings = base
        var rest = index
        for axis in grid.reversed() {
            settings[axis.parameter] = axis.values[rest % axis.values.count]
            rest /= axis.values.count
        }
        return SweepPoint(index: index, settings: settings)
    }

    /// The spec as canonical JSON (sorted keys): what its hash is taken over.
    public var canonicalJSON: String {
        let baseText = base.keys.sorted().map { "\"\($0.rawValue)\":\(base[$0]!.json)" }.joined(separator: ",")
        let gridText = grid.map { "\"\($0.parameter.rawValue)\":[\($0.values.map(\.json).joined(separator: ","))]" }.joined(separator: ",")
        return "{\"base\":{\(baseText)},\"grid\":{\(gridText)},\"name\":\(SweepValue.string(name).json)}"
    }

    /// A 64-bit FNV-1a hash of ``canonicalJSON``, as 16 hex digits.
    public var hash: String { ContentHash.hex(of: Array(canonicalJSON.utf8)) }
}

/// One point of a sweep: its index in the enumeration and its full settings.
public struct SweepPoint: Sendable, Equatable {
    /// Position in the sweep's enumeration.
    public var index: Int
    /// Every setting of the point.
    public var settings: [SweepParameter: SweepValue]

    /// The settings as canonical JSON (sorted keys).
    public var configJSON: String {
        "{" + settings.keys.sorted().map { "\"\($0.rawValue)\":\(settings[$0]!.json)" }.joined(separator: ",") + "}"
    }

    /// The point's identity: a hash of its settings (not of its index), so that the same
    /// configuration has the same identity in any sweep.
    public var hash: String { ContentHash.hex(of: Array(configJSON.utf8)) }
}
