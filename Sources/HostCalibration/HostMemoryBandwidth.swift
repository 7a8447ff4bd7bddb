import CHostRead
import Dispatch

/// The host memory bandwidth a CPU kernel reaches reading weights, the term the simulation's
/// CPU experts are priced by (``OffloadSim/HardwareProfile/hostMemoryGBps``: Fiddler's CPU
/// experts, llama.cpp's experts below its offload threshold, which a one-token step reads
/// from host memory at this rate). Measured as STREAM's read kernels are (McCalpin, "Memory
/// Bandwidth and Machine Balance", 1995): `threads` threads each sum their share of a
/// buffer far larger than the last-level cache, the fastest of `passes` passes. A summing
/// kernel does no arithmetic worth the name, so the figure is an upper bound for an expert
/// kernel that also decodes and multiplies (llama.cpp's quantised dot products).
///
/// Memory: `bytes`. Time: `passes` reads of `bytes`.
public struct HostMemoryBandwidth: Sendable {
    /// Bytes read by each pass (rounded down to whole 64-byte lines).
    public var bytes: Int
    /// Threads reading at once.
    public var threads: Int
    /// Passes; the fastest counts (interruptions only add time).
    public var passes: Int

    /// A measurement of `bytes` read by `threads` threads, the fastest of `passes` passes.
    public init(bytes: Int, threads: Int, passes: Int = 5) {
        precondition(bytes >= 64 && threads >= 1 && passes >= 1)
        self.bytes = bytes / 64 * 64
        self.threads = threads
        self.passes = passes
    }

    /// What a measurement found.
    public struct Measurement: Sendable, Equatable {
        /// Bytes read per pass over the fastest pass's time, GB/s (bytes/ns).
        public var gbps: Double
        /// Each pass's time, ns, in order.
        public var passNanoseconds: [UInt64]

        /// A measurement of `gbps` whose passes took `passNanoseconds`.
        public init(gbps: Double, passNanoseconds: [UInt64]) {
            self.gbps = gbps
            self.passNanoseconds = passNanoseconds
        }
    }

    /// Runs the passes, timing each with `clock` (ns; default: the system's monotonic clock).
    /// Every pass's sum is checked against the buffer's known contents, so that no pass can
    /// be optimised away.
    public func measure(clock: () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) -> Measurement {
        let words = bytes / 8
        let buffer = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
        defer { buffer.deallocate() }
        // Written once, so that every page is resident before the first timed pass.
        for index in 0..<words { buffer[index] = UInt64(truncatingIfNeeded: index) }
        let expected = Self.sum(of: buffer, count: words)
        let sums = UnsafeMutablePointer<UInt64>.allocate(capacity: threads)
        defer { sums.deallocate() }
        let share = (words + threads - 1) / threads
        // Each thread reads its own share and writes its own sum: no two touch the same word.
        nonisolated(unsafe) let (shared, partials) = (UnsafePointer(buffer), sums)
        let times = timedPasses(passes, clock: clock) {
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                let first = min(words, thread * share)
                partials[thread] = Self.sum(of: shared + first, count: min(words, first + share) - first)
            }
        } check: {
            let total = (0..<threads).reduce(UInt64(0)) { $0 &+ sums[$1] }
            precondition(total == expected, "a pass read a sum other than the buffer's")
        }
        return Measurement(gbps: Double(words * 8) / Double(max(1, times.min()!)), passNanoseconds: times)
    }

    /// The wrapping sum of `count` words from `start`, read by the C kernel at the CPU's widest
    /// vector loads (`moesim_host_read_sum`): Swift builds for the baseline instruction set,
    /// whose 16-byte loads reached 28% less than AVX-512's on the development VM (21.7 against
    /// 29.9 GB/s on two threads; Benchmarks/RESULTS.md, "Host memory bandwidth and FMA rate").
    static func sum(of start: UnsafePointer<UInt64>, count: Int) -> UInt64 {
        moesim_host_read_sum(start, count)
    }
}
