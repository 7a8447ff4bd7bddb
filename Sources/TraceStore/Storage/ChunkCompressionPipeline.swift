import Dispatch
import Foundation

/// Compresses a trace's chunk payloads on worker threads while the writer goes on encoding
/// the next chunks, and hands each chunk's compressed payloads back in submission order, on
/// the writer's thread, for it to store. zstd at level 19 is most of the cost of writing a
/// trace (about 85% of `trace synth` and half of a CSV import before this pipeline), and the
/// chunks are independent frames, so they compress in parallel on every core.
///
/// Output is the same bytes as compressing one chunk after another: each payload is its own
/// frame from its own context at the same level, and chunks are stored in their order. At most
/// ``limit`` chunks are in flight (memory: that many chunks' payloads); a stored chunk is
/// released at once, so memory does not grow with the trace.
final class ChunkCompressionPipeline: @unchecked Sendable {
    /// One chunk's payloads and what to do with them once compressed.
    private final class Job: @unchecked Sendable {
        let payloads: [[UInt8]]
        var compressed: [[UInt8]] = []
        let store: ([[UInt8]]) throws -> Void
        let done = DispatchSemaphore(value: 0)

        init(payloads: [[UInt8]], store: @escaping ([[UInt8]]) throws -> Void) {
            self.payloads = payloads
            self.store = store
        }
    }

    /// The zstd level.
    let level: Int32
    /// Chunks in flight at most.
    let limit: Int
    private let lock = NSLock()
    private var idle: [ZstdCompressor] = []
    /// The chunks submitted and not yet stored, oldest first (at most ``limit`` + 1).
    private var pending: [Job] = []

    /// A pipeline at zstd `level` with up to `limit` chunks in flight (default: cores + 1).
    init(level: Int32, limit: Int = ProcessInfo.processInfo.activeProcessorCount + 1) {
        self.level = level
        self.limit = max(1, limit)
    }

    /// Queues `payloads` for compression; `store` later receives them compressed, in the
    /// same order, on the calling thread (inside this or a later ``submit`` or ``drain()``).
    /// Stores the chunks that are already compressed, and waits while too many are in flight.
    func submit(_ payloads: [[UInt8]], store: @escaping ([[UInt8]]) throws -> Void) throws {
        let job = Job(payloads: payloads, store: store)
        pending.append(job)
        DispatchQueue.global().async { [self] in
            let compressor = takeCompressor()
            job.compressed = job.payloads.map { compressor.compress($0) }
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

    /// Stores the oldest chunk once compressed. Removing it from the front moves at most
    /// ``limit`` references; keeping stored jobs until the queue ran dry (as before) held every
    /// chunk of a run whose writer stayed ahead of the compressors: 1.5 GB for 2 M synthetic
    /// ESFT tokens.
    private func storeNext() throws {
        let job = pending.removeFirst()
        job.done.wait()
        try job.store(job.compressed)
    }

    private func takeCompressor() -> ZstdCompressor {
        lock.lock()
        defer { lock.unlock() }
        return idle.popLast() ?? ZstdCompressor(level: level)
    }

    private func giveBack(_ compressor: ZstdCompressor) {
        lock.lock()
        idle.append(compressor)
        lock.unlock()
    }
}
