/// Times work queued on a stream with a pair of CUDA events.
struct GPUTimer {
    let start: CUDAEvent
    let end: CUDAEvent

    init(context: CUDAContext) throws {
        start = try context.makeEvent()
        end = try context.makeEvent()
    }

    /// Mean time of `repetitions` runs of `body` queued back to back on `stream`, ns.
    func time(_ stream: CUDAStream, repetitions: Int, _ body: (Int) throws -> Void) throws -> Double {
        try stream.record(start)
        for index in 0..<repetitions { try body(index) }
        try stream.record(end)
        try end.synchronize()
        return try end.nanoseconds(since: start) / Double(repetitions)
    }
}
