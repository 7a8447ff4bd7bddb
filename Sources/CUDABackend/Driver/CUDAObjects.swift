import CCUDADriver

/// A CUDA stream; released when the object goes.
public final class CUDAStream {
    let context: CUDAContext
    let handle: CUstream

    init(context: CUDAContext) throws {
        self.context = context
        var stream: CUstream?
        try context.driver.check(context.driver.api.pointee.cuStreamCreate(&stream, UInt32(MOESIM_CU_STREAM_NON_BLOCKING)), "cuStreamCreate")
        guard let stream else { throw CUDAError.call("cuStreamCreate", code: -1, message: "no stream returned") }
        handle = stream
    }

    deinit { _ = context.driver.api.pointee.cuStreamDestroy(handle) }

    /// Blocks until the stream's work is done.
    public func synchronize() throws {
        try context.driver.check(context.driver.api.pointee.cuStreamSynchronize(handle), "cuStreamSynchronize")
    }

    /// Makes later work on this stream wait for `event`.
    public func wait(for event: CUDAEvent) throws {
        try context.driver.check(context.driver.api.pointee.cuStreamWaitEvent(handle, event.handle, 0), "cuStreamWaitEvent")
    }

    /// Records `event` after the work queued so far.
    public func record(_ event: CUDAEvent) throws {
        try context.driver.check(context.driver.api.pointee.cuEventRecord(event.handle, handle), "cuEventRecord")
    }

    /// Queues a host-to-device copy of `bytes` from `source` at `sourceOffset` to `destination` at `offset`.
    public func copy(_ bytes: Int, from source: PinnedBuffer, sourceOffset: Int = 0, to destination: DeviceBuffer, offset: Int = 0) throws {
        precondition(sourceOffset + bytes <= source.bytes && offset + bytes <= destination.bytes, "copy out of bounds")
        try context.driver.check(context.driver.api.pointee.cuMemcpyHtoDAsync(destination.address + CUdeviceptr(offset),
                                                                              source.pointer + sourceOffset, bytes, handle),
                                 "cuMemcpyHtoDAsync")
    }

    /// Copies `bytes` from pageable host memory to `destination`. The driver stages pageable
    /// memory through pinned buffers of its own: the call synchronises the stream first and
    /// returns once the data is staged (CUDA Driver API, "API synchronization behavior").
    public func copy(_ bytes: Int, from source: PageableBuffer, sourceOffset: Int = 0, to destination: DeviceBuffer, offset: Int = 0) throws {
        precondition(sourceOffset + bytes <= source.bytes && offset + bytes <= destination.bytes, "copy out of bounds")
        try context.driver.check(context.driver.api.pointee.cuMemcpyHtoDAsync(destination.address + CUdeviceptr(offset),
                                                                              source.pointer + sourceOffset, bytes, handle),
                                 "cuMemcpyHtoDAsync (pageable)")
    }

    /// Queues a device-to-host copy of `bytes` from `source` at `offset` into `destination`.
    public func copy(_ bytes: Int, from source: DeviceBuffer, offset: Int = 0, to destination: PinnedBuffer) throws {
        precondition(offset + bytes <= source.bytes && bytes <= destination.bytes, "copy out of bounds")
        try context.driver.check(context.driver.api.pointee.cuMemcpyDtoHAsync(destination.pointer, source.address + CUdeviceptr(offset),
                                                                              bytes, handle),
                                 "cuMemcpyDtoHAsync")
    }
}

/// A CUDA event; released when the object goes.
public final class CUDAEvent {
    let context: CUDAContext
    let handle: CUevent

    init(context: CUDAContext, timing: Bool) throws {
        self.context = context
        var event: CUevent?
        let flags = timing ? MOESIM_CU_EVENT_DEFAULT : MOESIM_CU_EVENT_DISABLE_TIMING
        try context.driver.check(context.driver.api.pointee.cuEventCreate(&event, UInt32(flags)), "cuEventCreate")
        guard let event else { throw CUDAError.call("cuEventCreate", code: -1, message: "no event returned") }
        handle = event
    }

    deinit { _ = context.driver.api.pointee.cuEventDestroy(handle) }

    /// Blocks until the event has happened.
    public func synchronize() throws {
        try context.driver.check(context.driver.api.pointee.cuEventSynchronize(handle), "cuEventSynchronize")
    }

    /// Time from `start` to this event, ns (the driver reports ms with about 0.5 µs resolution).
    public func nanoseconds(since start: CUDAEvent) throws -> Double {
        var milliseconds: Float = 0
        try context.driver.check(context.driver.api.pointee.cuEventElapsedTime(&milliseconds, start.handle, handle), "cuEventElapsedTime")
        return Double(milliseconds) * 1e6
    }
}

/// Device memory; freed when the object goes.
public final class DeviceBuffer {
    let context: CUDAContext
    /// Its device address.
    public let address: CUdeviceptr
    /// Its size, bytes.
    public let bytes: Int

    init(context: CUDAContext, bytes: Int) throws {
        self.context = context
        self.bytes = bytes
        var address: CUdeviceptr = 0
        try context.driver.check(context.driver.api.pointee.cuMemAlloc(&address, bytes), "cuMemAlloc(\(bytes) B)")
        self.address = address
        try context.driver.check(context.driver.api.pointee.cuMemsetD8(address, 0x3c, bytes), "cuMemsetD8")
    }

    deinit { _ = context.driver.api.pointee.cuMemFree(address) }
}

/// Page-locked host memory, the source of every copy; freed when the object goes.
public final class PinnedBuffer {
    let context: CUDAContext
    /// Its host address.
    public let pointer: UnsafeMutableRawPointer
    /// Its size, bytes.
    public let bytes: Int

    init(context: CUDAContext, bytes: Int) throws {
        self.context = context
        self.bytes = bytes
        var pointer: UnsafeMutableRawPointer?
        try context.driver.check(context.driver.api.pointee.cuMemAllocHost(&pointer, bytes), "cuMemAllocHost(\(bytes) B)")
        guard let pointer else { throw CUDAError.call("cuMemAllocHost", code: -1, message: "no memory returned") }
        self.pointer = pointer
        pointer.initializeMemory(as: UInt8.self, repeating: 0x3c, count: bytes)
    }

    deinit { _ = context.driver.api.pointee.cuMemFreeHost(pointer) }
}

/// Ordinary (pageable) host memory, as an engine holds weights it never pinned (llama.cpp's
/// CPU buffer, a memory-mapped model file); written once so that its pages are resident.
/// Freed when the object goes.
public final class PageableBuffer {
    /// Its host address.
    public let pointer: UnsafeMutableRawPointer
    /// Its size, bytes.
    public let bytes: Int

    /// Allocates `bytes` of pageable memory.
    public init(bytes: Int) {
        self.bytes = bytes
        pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4_096)
        pointer.initializeMemory(as: UInt8.self, repeating: 0x3c, count: bytes)
    }

    deinit { pointer.deallocate() }
}
