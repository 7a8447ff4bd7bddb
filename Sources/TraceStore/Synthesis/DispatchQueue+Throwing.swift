import Dispatch

extension DispatchQueue {
    /// `concurrentPerform(iterations:execute:)` for a body that throws: every iteration runs to
    /// its end or its error, and the error of the lowest iteration that failed is rethrown once
    /// all have finished (so which error is reported does not depend on timing). Each iteration
    /// must touch only its own state.
    static func concurrentPerform(iterations: Int, throwing body: @Sendable (Int) throws -> Void) throws {
        let failures = UnsafeMutableBufferPointer<(any Error)?>.allocate(capacity: iterations)
        _ = failures.initialize(from: repeatElement(nil, count: iterations))
        defer {
            _ = failures.deinitialize()
            failures.deallocate()
        }
        // Each iteration writes only its own slot; the buffer outlives the loop.
        nonisolated(unsafe) let slots = failures
        concurrentPerform(iterations: iterations) { index in
            do { try body(index) } catch { slots[index] = error }
        }
        if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }
    }
}
