import Foundation
import OffloadSim

/// Simulated against measured figures for the replayed steps of one policy
/// (`moesim gpu validate`), each with its error in percent, (simulated − measured) /
/// measured.
public struct ValidationReport: Sendable, Encodable {
    /// One compared figure.
    public struct Figure: Sendable, Encodable, Equatable {
        /// Stable key, e.g. "tpot_ms".
        public var key: String
        /// What it is, for the table.
        public var label: String
        public var simulated: Double
        public var measured: Double
        /// (simulated − measured) / measured × 100; nil when measured is 0.
        public var errorPercent: Double?

        init(_ key: String, _ label: String, simulated: Double, measured: Double) {
            self.key = key
            self.label = label
            self.simulated = simulated
            self.measured = measured
            errorPercent = measured != 0 ? (simulated - measured) / measured * 100 : nil
        }

        enum CodingKeys: String, CodingKey {
            case key, label, simulated, measured
            case errorPercent = "error_percent"
        }
    }

    /// The figures in table order: TPOT (or step time), compute per token, stall share, bytes moved.
    public var figures: [Figure]
    /// Per layer, mean simulated and measured time over the replayed steps, ms.
    public var layerSimulatedMs: [Double]
    public var layerMeasuredMs: [Double]
    /// Steps replayed, decode steps among them, and tokens produced per sequence (what TPOT
    /// divides by: a decode step at batch B gives each of its B sequences its tokens at once).
    public var steps: Int
    public var decodeSteps: Int
    public var tokens: Int

    /// Compares `schedule` (the simulation) with `replay` (the GPU with copies) and
    /// `computeOnly` (the GPU's compute stream alone).
    public init(schedule: ReplaySchedule, replay: GPUReplay.Pass, computeOnly: GPUReplay.Pass) {
        let decode = schedule.steps.indices.filter { schedule.steps[$0].decode }
        let counted = decode.isEmpty ? Array(schedule.steps.indices) : decode
        let produced = max(1, counted.reduce(0) { $0 + (decode.isEmpty ? 1 : schedule.steps[$1].produced) })
        func perToken(_ values: [Double]) -> Double { counted.reduce(0) { $0 + values[$1] } / Double(produced) / 1e6 }
        let simulatedSteps = schedule.steps.map { Double($0.end - $0.start) }
        // Compute is each operation's time alone (the compute-only pass has no copies to slow it);
        // stall is the rest of the step, slowdown from copies included, on both sides.
        let simulatedCompute = schedule.steps.map { step in
            schedule.ops[step.firstOp..<step.endOp].reduce(0.0) { $0 + Double($1.work) }
        }
        let simulatedTotal = simulatedSteps.reduce(0, +)
        let measuredTotal = replay.stepNs.reduce(0, +)
        let simulatedStall = simulatedTotal > 0 ? 1 - simulatedCompute.reduce(0, +) / simulatedTotal : 0
        let measuredStall = measuredTotal > 0 ? max(0, 1 - computeOnly.stepNs.reduce(0, +) / measuredTotal) : 0
        let timeLabel = decode.isEmpty ? "step time (ms; no decode steps)" : "TPOT (ms)"
        figures = [
            Figure(decode.isEmpty ? "step_ms" : "tpot_ms", timeLabel, simulated: perToken(simulatedSteps), measured: perToken(replay.stepNs)),
            Figure("compute_ms", "compute per token (ms)", simulated: perToken(simulatedCompute), measured: perToken(computeOnly.stepNs)),
            Figure("stall_share", "stall share", simulated: simulatedStall, measured: measuredStall),
            Figure("bytes_moved", "bytes moved", simulated: Double(schedule.copies.reduce(0) { $0 + $1.bytes }), measured: Double(replay.bytesCopied)),
        ]
        var simulatedLayers: [Double] = []
        var measuredLayers: [Double] = []
        for (index, step) in schedule.steps.enumerated() {
            let starts = schedule.ops[step.firstOp..<step.endOp].compactMap { op -> Nanoseconds? in
                if case .attention = op.kernel { return op.start } else { return nil }
            }
            let bounds = starts + [step.end]
            for layer in 0..<starts.count {
                if simulatedLayers.count <= layer { simulatedLayers.append(0); measuredLayers.append(0) }
                simulatedLayers[layer] += Double(bounds[layer + 1] - bounds[layer])
                if layer < replay.layerNs[index].count { measuredLayers[layer] += replay.layerNs[index][layer] }
            }
        }
        let stepCount = Double(max(1, schedule.steps.count))
        layerSimulatedMs = simulatedLayers.map { $0 / stepCount / 1e6 }
        layerMeasuredMs = measuredLayers.map { $0 / stepCount / 1e6 }
        steps = schedule.steps.count
        decodeSteps = decode.count
        tokens = produced
    }

    enum CodingKeys: String, CodingKey {
        case figures, steps, tokens
        case decodeSteps = "decode_steps"
        case layerSimulatedMs = "layer_simulated_ms"
        case layerMeasuredMs = "layer_measured_ms"
    }

    /// The figures as an aligned table.
    public var table: String {
        func number(_ value: Double, _ key: String) -> String {
            switch key {
            case "stall_share": return String(format: "%.1f%%", value * 100)
            case "bytes_moved": return String(format: "%.3f GB", value / 1e9)
            default: return String(format: "%.3f", value)
            }
        }
        var lines = ["figure                              simulated     measured    error"]
        for figure in figures {
            let error = figure.errorPercent.map { String(format: "%+.1f%%", $0) } ?? "n/a"
            lines.append(figure.label.padding(toLength: 32, withPad: " ", startingAt: 0)
                + number(figure.simulated, figure.key).leftPadded(13) + number(figure.measured, figure.key).leftPadded(13) + error.leftPadded(9))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
