import CCUDADriver

/// The CUDA driver library, opened with dlopen at run time so that moesim builds and
/// runs without CUDA; only the driver API is used (no runtime, no toolkit).
///
/// Every call goes through ``check(_:_:)``, which turns a non-zero `CUresult` into a
/// ``CUDAError`` naming the call and the driver's message.
public final class CUDADriver: @unchecked Sendable {
    /// The library's default name, as the NVIDIA driver installs it.
    public static let defaultLibrary = "libcuda.so.1"

    /// Where the library was opened from.
    public let path: String
    /// The bound entry points.
    let api: UnsafeMutablePointer<moesim_cuda_api>

    /// Opens `path` and binds the entry points; throws ``CUDAError/driverNotFound(path:reason:)``
    /// or ``CUDAError/missingEntryPoint(path:symbol:)``.
    public init(path: String = CUDADriver.defaultLibrary) throws {
        self.path = path
        api = .allocate(capacity: 1)
        var message = [CChar](repeating: 0, count: 512)
        // On failure deinit still runs (every property is set) and frees `api`.
        let status = moesim_cuda_load(path, api, &message, message.count)
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch status {
        case 0: break
        case 2:
            throw CUDAError.missingEntryPoint(path: path, symbol: text)
        default:
            throw CUDAError.driverNotFound(path: path, reason: text)
        }
    }

    deinit {
        moesim_cuda_unload(api)
        api.deallocate()
    }

    /// Throws unless `result` is CUDA_SUCCESS.
    func check(_ result: CUresult, _ call: String) throws {
        guard result != 0 else { return }
        var text: UnsafePointer<CChar>?
        _ = api.pointee.cuGetErrorString(result, &text)
        throw CUDAError.call(call, code: result, message: text.map { String(cString: $0) } ?? "unknown error")
    }

    /// The driver's CUDA version, e.g. 13000 for 13.0.
    public func driverVersion() throws -> Int {
        var version: Int32 = 0
        try check(api.pointee.cuDriverGetVersion(&version), "cuDriverGetVersion")
        return Int(version)
    }
}
