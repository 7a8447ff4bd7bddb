import Foundation

/// Records the compute and copy streams' operations of the first steps of a run and
/// renders them as Chrome/Perfetto trace-event JSON ("JSON Object Format", the Trace
/// Event Format document of the Chromium project): one process, track 0 the compute
/// stream, track 1 the copy engines, one "X" (complete) event per operation with
/// microsecond timestamps. Memory grows with the recorded steps only.
public struct TimelineRecorder: Sendable {
    struct Span: Sendable {
        var track: Int
        var name: String
        var start: Nanoseconds
        var end: Nanoseconds
        var arguments: String
    }

    /// Steps recorded (those with index below it).
    public let stepLimit: Int
    private var spans: [Span] = []

    /// A recorder for the first `stepLimit` steps.
    public init(stepLimit: Int) { self.stepLimit = stepLimit }

    /// Operations recorded so far.
    public var count: Int { spans.count }

    func isRecording(step index: Int) -> Bool { index < stepLimit }

    /// Records a compute operation; `expert` is the routed expert an expert operation ran
    /// (the policy's choice, which under speculation is not the router's) and its tokens.
    mutating func recordCompute(op: Simulation.ComputeOp, layer: Int, step: Step, start: Nanoseconds, end: Nanoseconds,
                                expert: (id: UInt16, tokens: Int32)?) {
        let name: String
        var arguments = "\"layer\":\(layer),\"step\":\(step.index)"
        switch op {
        case .draft: name = "draft model"
        case .attention: name = "L\(layer) attention+router"
        case .shared: name = "L\(layer) shared experts"
        case .expert:
            guard let expert else { return }
            name = "L\(layer) expert \(expert.id)"
            arguments += ",\"expert\":\(expert.id),\"tokens\":\(expert.tokens)"
        case .grouped:
            name = "L\(layer) grouped experts"
        case .idle: return
        }
        spans.append(Span(track: 0, name: name, start: start, end: end, arguments: arguments))
    }

    mutating func recordCopy(_ copy: CopyCompletion, layer: Int) {
        let kind = copy.priority == .demand ? "demand" : "prefetch"
        let what = copy.tag >= 0 ? "expert key \(copy.tag)" : "staging"
        spans.append(Span(track: 1, name: "L\(layer) \(kind) copy", start: copy.startedAt, end: copy.finishedAt,
                          arguments: "\"bytes\":\(copy.bytes),\"target\":\"\(what)\""))
    }

    mutating func recordStep(_ step: Step, start: Nanoseconds, end: Nanoseconds) {
        spans.append(Span(track: 2, name: "step \(step.index) (\(step.phase), \(step.tokens) tokens)", start: start, end: end,
                          arguments: "\"sequences\":\(step.sequences.count)"))
    }

    /// The recorded operations as trace-event JSON; `title` goes into the metadata.
    public func json(title: String) -> String {
        func micros(_ ns: Nanoseconds) -> String { String(format: "%.3f", Double(ns) / 1_000) }
        func escaped(_ text: String) -> String {
            text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        }
        var lines = ["{\"displayTimeUnit\":\"ns\",\"otherData\":{\"title\":\"\(escaped(title))\"},\"traceEvents\":["]
        let tracks = ["compute stream", "copy engines (host to device)", "steps"]
        for (tid, name) in tracks.enumerated() {
            lines.append("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":0,\"tid\":\(tid),\"args\":{\"name\":\"\(name)\"}},")
        }
        for span in spans {
            lines.append("{\"name\":\"\(escaped(span.name))\",\"ph\":\"X\",\"pid\":0,\"tid\":\(span.track),\"ts\":\(micros(span.start)),\"dur\":\(micros(span.end - span.start)),\"args\":{\(span.arguments)}},")
        }
        lines.append("{\"name\":\"end\",\"ph\":\"i\",\"s\":\"g\",\"pid\":0,\"tid\":2,\"ts\":\(micros(spans.map(\.end).max() ?? 0))}")
        lines.append("]}")
        return lines.joined(separator: "\n") + "\n"
    }
}
