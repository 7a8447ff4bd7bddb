/// Times work queued on a stream with a pair of CUDA events.
struct GPUTimer {
    let start: CUDAEvent
    let end: CUDAEvent

    init(context: CUDAContext) throws {
        start = try context.makeEvent()
        end = try context.makeEvent()
    }

    /// Mean time of `repetitions` runs of `body` queued on `stream` while the GPU is held by a
    /// `holdNanoseconds` spin kernel, ns, and the host's time to queue them: when the host
    /// queues them all before the spin ends, the events time the GPU alone, without the host's
    /// issue rate (the blocking-kernel method of NVIDIA's nvbench). Issued after the spin ends,
    /// the runs are timed as issued.
    func timeQueued(_ stream: CUDAStream, kernels: MoesimKernels, holdNanoseconds: Int, repetitions: Int,
                    hostClock: () -> Double, _ body: (Int) throws -> Void) throws -> (gpu: Double, hostQueue: Double) {
        try kernels.spin(nanoseconds: holdNanoseconds, on: stream)
        let queueStart = hostClock()
        try queue(stream, repetitions: repetitions, body)
        let queued = hostClock() - queueStart
        return (try meanSinceStart(repetitions), queued)
    }

    /// Mean time of `repetitions` runs of `body` queued back to back on `stream`, ns.
    func time(_ stream: CUDAStream, repetitions: Int, _ body: (Int) throws -> Void) throws -> Double {
        try queue(stream, repetitions: repetitions, body)
        return try meanSinceStart(repetitions)
    }

    /// Queues the runs between the two events.
    private func queue(_ stream: CUDAStream, repetitions: Int, _ body: (Int) throws -> Void) throws {
        try stream.record(start)
        for index in 0..<repetitions { try body(index) }
        try stream.record(end)
    }

    /// Waits for the end event; the time between the events over `repetitions`, ns.
    private func meanSinceStart(_ repetitions: Int) throws -> Double {
        try end.synchronize()
        return try end.nanoseconds(since: start) / Double(repetitions)
    }
}
