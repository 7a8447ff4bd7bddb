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
/// ``limit`` chunks are in flight (memory: that many chunks' payloads).
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
    private var pending: [Job] = []
    private var next = 0

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
        while pending.count - next > limit { try storeNext() }
        while next < pending.count, pending[next].done.wait(timeout: .now()) == .success {
            pending[next].done.signal()
            try storeNext()
        }
    }

    /// Stores every chunk still in flight.
    func drain() throws {
        while next < pending.count { try storeNext() }
    }

    /// Waits for the chunks in flight without storing them (the trace is being abandoned).
    func abandon() {
        while next < pending.count {
            pending[next].done.wait()
            next += 1
        }
        pending.removeAll()
        next = 0
    }

    private func storeNext() throws {
        let job = pending[next]
        job.done.wait()
        next += 1
        if next == pending.count {
            pending.removeAll(keepingCapacity: true)
            next = 0
        }
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
