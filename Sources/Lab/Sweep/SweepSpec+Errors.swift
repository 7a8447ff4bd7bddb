import TraceStore

extension SweepSpec {
    /// The command-line option each sweep parameter stands for in ``RunSetup``'s errors.
    private static let options: [String: [SweepParameter]] = [
        "--model": [.model], "--hardware": [.hardware], "--engine": [.engine], "--engine-set": [.engineSet], "--policy": [.policy],
        "--eviction": [.eviction], "--admission": [.admission], "--lookup-order": [.lookupOrder],
        "--expert-dtype": [.expertDType], "--cache-mib": [.cacheMiB, .cacheFraction], "--context": [.context],
        "predictor.lookahead": [.lookahead, .policy],
    ]

    /// `error` from setting up or running `point`, placed in this spec: an error that names a
    /// command-line option (``RunSetup`` speaks to `simulate`'s users) is restated as the spec
    /// key and line that set it; any other gains the point it happened at.
    public func locate(_ error: TraceStoreError, in point: SweepPoint) -> TraceStoreError {
        guard !file.isEmpty else { return error }
        let pointText = "point \(point.index) \(point.configJSON)"
        if let parameters = Self.options[error.place == "predictor.lookahead" ? error.place : error.file],
           let parameter = parameters.first(where: { point.settings[$0] != nil }) {
            let place = keyLines[parameter].map { "line \($0.line) (\($0.key))" } ?? "the default \(parameter.rawValue)"
            return TraceStoreError(file: file, place: place, problem: "\(error.problem) at \(pointText)", fix: "Fix the sweep spec. \(error.fix)")
        }
        var located = error
        located.problem += " (sweep \(file), \(pointText))"
        return located
    }
}
