import CCUDADriver

/// One GPU's primary context, made current on the calling thread, with the few objects
/// moesim's backend needs: streams, events, device and pinned host memory, modules.
///
/// Not thread-safe: use it from one thread (the context is current on the thread that
/// created it).
public final class CUDAContext: @unchecked Sendable {
    /// The driver.
    public let driver: CUDADriver
    /// The device ordinal.
    public let ordinal: Int
    /// The GPU's product name, as the driver reports it.
    public let deviceName: String
    /// Device memory, bytes.
    public let totalMemory: Int
    /// Copy engines that can run alongside kernels.
    public let asyncEngines: Int
    /// Compute capability, e.g. "9.0".
    public let computeCapability: String
    let device: CUdevice
    let context: CUcontext

    /// Initialises the driver and retains device `ordinal`'s primary context.
    public init(driver: CUDADriver, ordinal: Int = 0) throws {
        self.driver = driver
        self.ordinal = ordinal
        let api = driver.api.pointee
        try driver.check(api.cuInit(0), "cuInit")
        var count: Int32 = 0
        try driver.check(api.cuDeviceGetCount(&count), "cuDeviceGetCount")
        guard ordinal < Int(count) else { throw CUDAError.noDevice }
        var device: CUdevice = 0
        try driver.check(api.cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet")
        var name = [CChar](repeating: 0, count: 256)
        try driver.check(api.cuDeviceGetName(&name, Int32(name.count), device), "cuDeviceGetName")
        var bytes = 0
        try driver.check(api.cuDeviceTotalMem(&bytes, device), "cuDeviceTotalMem")
        func attribute(_ id: Int32, _ name: String) throws -> Int {
            var value: Int32 = 0
            try driver.check(api.cuDeviceGetAttribute(&value, id, device), "cuDeviceGetAttribute(\(name))")
            return Int(value)
        }
        asyncEngines = try attribute(Int32(MOESIM_CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT), "async engines")
        let major = try attribute(Int32(MOESIM_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR), "major")
        let minor = try attribute(Int32(MOESIM_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR), "minor")
        computeCapability = "\(major).\(minor)"
        var context: CUcontext?
        try driver.check(api.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain")
        guard let context else { throw CUDAError.call("cuDevicePrimaryCtxRetain", code: -1, message: "no context returned") }
        try driver.check(api.cuCtxSetCurrent(context), "cuCtxSetCurrent")
        self.device = device
        self.context = context
        deviceName = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        totalMemory = bytes
    }

    deinit {
        _ = driver.api.pointee.cuCtxSynchronize()
        _ = driver.api.pointee.cuDevicePrimaryCtxRelease(device)
    }

    /// Waits for all work on the GPU.
    public func synchronize() throws {
        try driver.check(driver.api.pointee.cuCtxSynchronize(), "cuCtxSynchronize")
    }

    /// A non-blocking stream (it does not synchronise with the legacy default stream).
    public func makeStream() throws -> CUDAStream { try CUDAStream(context: self) }

    /// An event; `timing` false makes a cheaper event usable only for ordering.
    public func makeEvent(timing: Bool = true) throws -> CUDAEvent { try CUDAEvent(context: self, timing: timing) }

    /// `bytes` of device memory.
    public func allocateDevice(_ bytes: Int) throws -> DeviceBuffer { try DeviceBuffer(context: self, bytes: bytes) }

    /// `bytes` of page-locked host memory, filled with a byte pattern so that pages are touched.
    public func allocatePinned(_ bytes: Int) throws -> PinnedBuffer { try PinnedBuffer(context: self, bytes: bytes) }

    /// Device memory holding `values` (device addresses for a grouped launch), copied through
    /// pinned memory on `stream`, which is then synchronised.
    public func deviceBuffer(holding values: [UInt64], on stream: CUDAStream) throws -> DeviceBuffer {
        let bytes = max(8, values.count * 8)
        let staging = try allocatePinned(bytes)
        values.withUnsafeBytes { staging.pointer.copyMemory(from: $0.baseAddress!, byteCount: values.count * 8) }
        let device = try allocateDevice(bytes)
        try stream.copy(bytes, from: staging, to: device)
        try stream.synchronize()
        return device
    }
}
