import TraceStore

/// Turns step boundaries into the per-token latencies of ``SimulationMetrics`` (TTFT from
/// admission, TPOT between a sequence's tokens) and the step counts, the same way for
/// every engine. Memory: one entry per running sequence.
struct StepLatencyTracker: Sendable {
    private var admittedAt: [Int: Nanoseconds] = [:]
    private var lastTokenAt: [Int: Nanoseconds] = [:]

    /// A step starts at `start`: its admitted sequences start waiting.
    mutating func begin(_ step: Step, at start: Nanoseconds) {
        for sequence in step.admitted { admittedAt[sequence] = start }
    }

    /// A step that began at `start` ended at `end`; each decoding sequence produced `produced`
    /// tokens (more than one under speculative decoding: each gets an equal share of the gap).
    mutating func finish(_ step: Step, start: Nanoseconds, end: Nanoseconds, produced: Int = 1, into metrics: inout SimulationMetrics) {
        metrics.steps += 1
        metrics.tokens += step.tokens
        metrics.decisions += step.decisions
        metrics.makespanNs = end
        if step.phase == .decode {
            metrics.decodeSteps += 1
            metrics.decodeNs += end - start
        } else {
            metrics.prefillSteps += 1
        }
        for sequence in step.firstTokens {
            metrics.ttft.record(end - (admittedAt[sequence] ?? start))
            lastTokenAt[sequence] = end
            metrics.outputTokens += 1
        }
        if step.phase == .decode {
            for entry in step.sequences where !step.firstTokens.contains(entry.id) {
                let gap = end - (lastTokenAt[entry.id] ?? start)
                metrics.tpot.record(gap / Nanoseconds(produced), weight: UInt64(produced))
                lastTokenAt[entry.id] = end
                metrics.outputTokens += produced
            }
        }
        for sequence in step.finished {
            admittedAt[sequence] = nil
            lastTokenAt[sequence] = nil
        }
    }
}
