import Dispatch
import Foundation
import TraceStore

/// Forms steps on a second thread while the simulation consumes them on its own: a
/// producer-consumer pipeline over a ``StepSource``. Forming a step (reading, decompressing
/// and decoding chunks, assembling the step) was about 40% of a one-token-per-step replay's
/// instructions, work the simulation does not depend on until it takes the step.
///
/// The steps are the same, in the same order, so results are unchanged; only the wall clock
/// differs, where a second core is free. An error the upstream throws reaches the consumer
/// after the steps formed before it, as without the pipeline.
///
/// Steps travel in batches, closed at ``batchSteps`` steps or ``batchDecisions`` routed
/// decisions, so that the threads meet once per batch rather than once per step (a decode
/// step of one token is a few microseconds of work, about what waking a thread costs). A ring
/// of ``batchCount`` batches: the producer fills the free ones in turn while the consumer takes
/// the steps of the filled ones, swapping each with its own (no copy); four rather than two
/// give each side slack where the two threads run at about the same pace (a one-token-per-step
/// LRU replay: the consumer waited at 520 of 520 hand-overs with two, 420-490 with four).
/// Memory: the batches' steps and the consumer's, so up to five times the largest step where
/// steps are large (measured: ESFT at batch 64, 388 MiB peak before, 398 MiB with it).
public final class StepPipeline<Upstream: StepSource & SendableMetatype>: StepSource {
    /// Steps per batch at most.
    public let batchSteps: Int
    /// Routed decisions after which a batch is closed.
    public let batchDecisions: Int
    /// Batches in the ring.
    static var batchCount: Int { 4 }

    private struct Batch {
        var steps: [Step] = []
        var count = 0
        /// Whether the upstream had no step after these.
        var finished = false
        /// What the upstream threw after these steps.
        var failure: (any Error)?
    }

    /// What both threads reach: the batches (each touched by one thread at a time, handed over
    /// through the semaphores, which order the accesses) and the producer's upstream.
    private final class Shared: @unchecked Sendable {
        var upstream: Upstream
        let batches: UnsafeMutablePointer<Batch>
        /// Signalled per filled batch (producer to consumer).
        let filled = DispatchSemaphore(value: 0)
        /// Signalled per batch free to fill (consumer to producer); starts at one per batch.
        let free = DispatchSemaphore(value: 0)
        /// Signalled once the producer has stopped.
        let stopped = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var cancelled = false

        init(upstream: Upstream) {
            self.upstream = upstream
            batches = .allocate(capacity: StepPipeline.batchCount)
            batches.initialize(repeating: Batch(), count: StepPipeline.batchCount)
        }

        var isCancelled: Bool {
            lock.lock()
            defer { lock.unlock() }
            return cancelled
        }

        func cancel() {
            lock.lock()
            cancelled = true
            lock.unlock()
        }

        /// The producer's loop: fills the free batches in turn until the upstream ends or throws,
        /// or the consumer goes away.
        // Specialised for trace files: the pipeline is made in generic code, and unspecialised the
        // former looked its type metadata up at every step (8% of a replay's samples).
        @_specialize(exported: false, where Upstream == BatchFormer<TraceReader>)
        func produce(batchSteps: Int, batchDecisions: Int) {
            var index = 0
            while true {
                free.wait()
                if isCancelled { break }
                let batch = batches + index
                batch.pointee.count = 0
                batch.pointee.finished = false
                batch.pointee.failure = nil
                var decisions = 0
                do {
                    while batch.pointee.count < batchSteps && decisions < batchDecisions {
                        if batch.pointee.count == batch.pointee.steps.count { batch.pointee.steps.append(Step()) }
                        guard try upstream.next(into: &batch.pointee.steps[batch.pointee.count]) else {
                            batch.pointee.finished = true
                            break
                        }
                        decisions += batch.pointee.steps[batch.pointee.count].decisions
                        batch.pointee.count += 1
                    }
                } catch {
                    batch.pointee.failure = error
                }
                let last = batch.pointee.finished || batch.pointee.failure != nil
                filled.signal()
                if last { break }
                index = (index + 1) % StepPipeline.batchCount
            }
            stopped.signal()
        }

        deinit {
            batches.deinitialize(count: StepPipeline.batchCount)
            batches.deallocate()
        }
    }

    private let shared: Shared
    /// The consumer's side: the batch it takes steps from, the next step's position in it.
    private var batch = -1
    private var position = 0
    private var nextBatch = 0
    private var ended = false

    /// Starts forming `upstream`'s steps on another thread.
    public init(_ upstream: Upstream, batchSteps: Int = 64, batchDecisions: Int = 1 << 16) {
        precondition(batchSteps >= 1 && batchDecisions >= 1)
        self.batchSteps = batchSteps
        self.batchDecisions = batchDecisions
        shared = Shared(upstream: upstream)
        for _ in 0..<Self.batchCount { shared.free.signal() }
        // A thread of its own, not a dispatch queue's worker: the producer blocks while every
        // batch is full, and sweeps run many pipelines at once, which could hold every worker
        // of a bounded pool blocked while the producers that would free them wait for one.
        let thread = Thread { [shared] in shared.produce(batchSteps: batchSteps, batchDecisions: batchDecisions) }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Stops the producer (if it is still forming steps) and waits for it.
    deinit {
        shared.cancel()
        shared.free.signal()
        shared.stopped.wait()
    }

    /// Fills `step` with the next step (swapping it with the one formed); false when there are
    /// no more. Rethrows, in its place, what the upstream threw.
    public func next(into step: inout Step) throws -> Bool {
        while true {
            guard !ended else { return false }
            if batch >= 0 {
                let current = shared.batches + batch
                if position < current.pointee.count {
                    swap(&step, &current.pointee.steps[position])
                    position += 1
                    return true
                }
                if let failure = current.pointee.failure {
                    ended = true
                    throw failure
                }
                if current.pointee.finished {
                    ended = true
                    return false
                }
                shared.free.signal()
            }
            shared.filled.wait()
            batch = nextBatch
            nextBatch = (nextBatch + 1) % Self.batchCount
            position = 0
        }
    }
}
