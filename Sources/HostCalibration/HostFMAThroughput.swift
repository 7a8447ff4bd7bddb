import CHostRead
import Dispatch

/// The host CPU's fused multiply-add rate, the term the simulation's CPU experts are priced by
/// when they are compute-bound (``OffloadSim/HardwareProfile/hostTFLOPS``: a CPU step of many
/// tokens, e.g. llama.cpp's steps of 16-31 tokens below its offload threshold). `threads`
/// threads each run `iterations` rounds of single-precision FMAs on values held in registers
/// (`moesim_host_fma`, at the CPU's widest vectors), the fastest of `passes` passes: the peak a
/// core reaches with no memory traffic, so an upper bound for an expert kernel, which also
/// loads, converts and reduces (llama.cpp's quantised dot products reach a fraction of it).
///
/// Memory: none. Time: `passes` × `iterations` rounds on every thread.
public struct HostFMAThroughput: Sendable {
    /// Rounds per thread per pass, each ``flopsPerIteration`` operations.
    public var iterations: Int
    /// Threads computing at once.
    public var threads: Int
    /// Passes; the fastest counts.
    public var passes: Int

    /// Floating-point operations per round (a multiply and an add per value).
    public static let flopsPerIteration = Int(MOESIM_HOST_FMA_FLOPS_PER_ITERATION)

    /// A measurement of `threads` threads running `iterations` rounds, the fastest of `passes` passes.
    public init(iterations: Int, threads: Int, passes: Int = 5) {
        precondition(iterations >= 1 && threads >= 1 && passes >= 1)
        self.iterations = iterations
        self.threads = threads
        self.passes = passes
    }

    /// What a measurement found.
    public struct Measurement: Sendable, Equatable {
        /// Operations of every thread over the fastest pass's time, TFLOP/s.
        public var tflops: Double
        /// Each pass's time, ns, in order.
        public var passNanoseconds: [UInt64]

        /// A measurement of `tflops` whose passes took `passNanoseconds`.
        public init(tflops: Double, passNanoseconds: [UInt64]) {
            self.tflops = tflops
            self.passNanoseconds = passNanoseconds
        }
    }

    /// Runs the passes, timing each with `clock` (ns; default: the system's monotonic clock).
    public func measure(clock: () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) -> Measurement {
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads)
        defer { sums.deallocate() }
        // Each thread writes its own result.
        nonisolated(unsafe) let results = sums
        let rounds = iterations
        let times = timedPasses(passes, clock: clock) {
            DispatchQueue.concurrentPerform(iterations: threads) { thread in results[thread] = moesim_host_fma(rounds) }
        } check: {
            precondition((0..<threads).allSatisfy { sums[$0].isFinite && sums[$0] > 0 }, "a thread's FMA rounds gave no finite result")
        }
        let operations = Double(threads) * Double(iterations) * Double(Self.flopsPerIteration)
        return Measurement(tflops: operations / Double(max(1, times.min()!)) / 1_000, passNanoseconds: times)
    }
}
