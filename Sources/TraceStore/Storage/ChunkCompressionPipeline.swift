import Dispatch
import Foundation

/// Encodes and compresses a trace's chunks on worker threads while the writer goes on staging
/// the next ones, and hands each chunk's result back in submission order, on the writer's
/// thread, for it to store. zstd is most of the cost of writing a trace (about 85% of `trace
/// synth` at level 19 and half of a CSV import before this pipeline), and the chunks are
/// independent frames, so they compress in parallel on every core; encoding a chunk's columns
/// and summing its content on the workers too keeps the writer's thread to staging tokens.
///
/// Output is the same bytes as encoding and compressing one chunk after another: each payload
/// is its own frame from its own context at the same level, and chunks are stored in their
/// order. At most ``limit`` chunks are in flight (memory: that many chunks' payloads); a stored
/// chunk is released at once, so memory does not grow with the trace.
final class ChunkCompressionPipeline<Output>: @unchecked Sendable {
    /// One chunk's work and what to do with its result.
    private final class Job: @unchecked Sendable {
        let work: (ZstdCompressor) -> Output
        var output: Output?
        let store: (Output) throws -> Void
        let done = DispatchSemaphore(value: 0)

        init(work: @escaping (ZstdCompressor) -> Output, store: @escaping (Output) throws -> Void) {
            self.work = work
            self.store = store
        }
    }

    /// The zstd level.
    let level: Int32
    /// Chunks in flight at most.
    let limit: Int
    private let lock = NSLock()
    private var idle: [ZstdCompressor] = []
    /// Frames handed back by ``recycle(_:)``, for the compressors to write into (at most ``spareLimit``).
    private var spareFrames: [[UInt8]] = []
    private var spareLimit: Int { 4 * (limit + 1) }
    /// The chunks submitted and not yet stored, oldest first (at most ``limit`` + 1).
    private var pending: [Job] = []

    /// A pipeline at zstd `level` with up to `limit` chunks in flight (default: cores + 1).
    init(level: Int32, limit: Int = ProcessInfo.processInfo.activeProcessorCount + 1) {
        self.level = level
        self.limit = max(1, limit)
    }

    /// Queues `work` (encoding and compressing one chunk with the compressor it is given) for a
    /// worker; `store` later receives its output, in submission order, on the calling thread
    /// (inside this or a later ``submit`` or ``drain()``). Stores the chunks that are already
    /// done, and waits while too many are in flight. `work` must not touch the caller's state.
    func submit(_ work: @escaping (ZstdCompressor) -> Output, store: @escaping (Output) throws -> Void) throws {
        let job = Job(work: work, store: store)
        pending.append(job)
        DispatchQueue.global().async { [self] in
            let compressor = takeCompressor()
            job.output = job.work(compressor)
            giveBack(compressor)
            job.done.signal()
        }
        while pending.count > limit { try storeNext() }
        while let first = pending.first, first.done.wait(timeout: .now()) == .success {
            first.done.signal()
            try storeNext()
        }
    }

    /// Stores every chunk still in flight.
    func drain() throws {
        while !pending.isEmpty { try storeNext() }
    }

    /// Waits for the chunks in flight without storing them (the trace is being abandoned).
    func abandon() {
        for job in pending { job.done.wait() }
        pending.removeAll()
    }

    /// Stores the oldest chunk once done. Removing it from the front moves at most ``limit``
    /// references; keeping stored jobs until the queue ran dry (as before) held every chunk of a
    /// run whose writer stayed ahead of the compressors: 1.5 GB for 2 M synthetic ESFT tokens.
    private func storeNext() throws {
        let job = pending.removeFirst()
        job.done.wait()
        // Taken out of the job, so that frames the store hands back to ``recycle(_:)`` are held once.
        let output = job.output!
        job.output = nil
        try job.store(output)
    }

    /// Hands frames a store has finished with back to the compressors, which write later frames
    /// into their storage (beyond ``spareLimit`` spares they are released).
    func recycle(_ frames: [[UInt8]]) {
        lock.lock()
        spareFrames.append(contentsOf: frames.prefix(max(0, spareLimit - spareFrames.count)))
        lock.unlock()
    }

    private func takeCompressor() -> ZstdCompressor {
        lock.lock()
        defer { lock.unlock() }
        let compressor = idle.popLast() ?? ZstdCompressor(level: level)
        // Enough spares for a chunk's frames (routing, weights, a prediction or two).
        while compressor.spareFrames.count < 4, let frame = spareFrames.popLast() { compressor.spareFrames.append(frame) }
        return compressor
    }

    private func giveBack(_ compressor: ZstdCompressor) {
        lock.lock()
        idle.append(compressor)
        lock.unlock()
    }
}
