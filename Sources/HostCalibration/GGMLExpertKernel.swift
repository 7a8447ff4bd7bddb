import CGGMLHost
import OffloadSim
import TraceStore

/// A routed expert's time on the host CPU as llama.cpp computes it below its offload threshold:
/// ggml's `MUL_MAT_ID` on the CPU backend over the expert's gate and up matrices (hidden →
/// intermediate) and its down matrix (intermediate → hidden), `topK` experts per op as a step's
/// router picks them, each expert taking every token of the op. The ops cycle over weight
/// tensors of at least `bytes` in all, so that, as in a decode step, experts come from memory
/// and not from the last-level cache; each token count's graph runs once untimed and then
/// `passes` times, timed with ggml's own clock, and the median counts.
///
/// Memory: about `bytes` of weights per token count. Time: `passes + 1` reads of them per token count.
public struct GGMLExpertKernel: Sendable {
    /// ggml's name of the gate and up matrices' type (`q4_K`).
    public var gateUpType: String
    /// ggml's name of the down matrix's type (`q6_K` in Q4_K_M's larger layers).
    public var downType: String
    /// Token counts an expert takes, ascending (the table's points).
    public var tokens: [Int]
    /// Threads of ggml's CPU backend (llama.cpp's `--threads`).
    public var threads: Int
    /// Bytes of weights the ops cycle over; well above the last-level cache.
    public var bytes: Int
    /// Timed passes per token count.
    public var passes: Int

    /// A timing of `gateUpType`/`downType` experts at `tokens` on `threads` threads over `bytes`.
    public init(gateUpType: String, downType: String, tokens: [Int], threads: Int, bytes: Int, passes: Int = 5) {
        precondition(!tokens.isEmpty && threads >= 1 && bytes >= 1 && passes >= 1)
        self.gateUpType = gateUpType
        self.downType = downType
        self.tokens = tokens
        self.threads = threads
        self.bytes = bytes
        self.passes = passes
    }

    /// Times `model`'s expert with `library` at every token count (calling `progress` with each
    /// count and its time per expert, ns); the table is recorded as measured on `cpu` on `date`.
    public func measure(model: ModelPreset, library: GGMLLibrary, cpu: String, date: String,
                        progress: (Int, Double) -> Void = { _, _ in }) throws -> HostExpertCalibration {
        guard model.matricesPerExpert == 3 else {
            throw TraceStoreError(file: "--model", problem: "\(model.name)'s experts have \(model.matricesPerExpert) matrices; the timing runs llama.cpp's gate, up and down",
                                  fix: "Give a model with SwiGLU experts (moesim models lists them).")
        }
        let gateUp = try library.type(named: gateUpType), down = try library.type(named: downType)
        var times: [Double] = []
        for count in tokens {
            var ns = 0.0
            var error = [CChar](repeating: 0, count: 512)
            let status = moesim_ggml_time_expert(library.handle, gateUp, down, Int64(model.hiddenSize), Int64(model.expertIntermediateSize),
                                                 Int32(model.experts), Int32(model.topK), Int32(count), Int32(threads), bytes, Int32(passes),
                                                 &ns, &error, error.count)
            guard status == 0 else {
                throw TraceStoreError(file: library.path, problem: "timing \(model.name)'s expert at \(count) tokens: "
                                      + GGMLLibrary.text(error),
                                      fix: "Check the types and --mib against this machine's memory.")
            }
            progress(count, ns)
            times.append(ns)
        }
        let expertBytes = 2 * library.rowBytes(type: gateUp, count: model.hiddenSize) * model.expertIntermediateSize
            + library.rowBytes(type: down, count: model.expertIntermediateSize) * model.hiddenSize
        guard let table = CalibrationTable(tokens: tokens, nanoseconds: times.map { ($0 * 10).rounded() / 10 }) else {
            throw TraceStoreError(file: library.path, problem: "gave times that make no table (\(times))", fix: "Give ascending token counts.")
        }
        let kernel = "ggml MUL_MAT_ID (\(library.path)), gate/up \(gateUpType), down \(downType), \(threads) thread\(threads == 1 ? "" : "s") "
            + "reading \(bytes >> 20) MiB, median of \(passes) passes, on \(cpu), \(date)"
        return HostExpertCalibration(table: table, expertBytes: expertBytes, kernel: kernel)
    }
}
