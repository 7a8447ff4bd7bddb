/// Why a GPU operation failed, with what to do about it.
public enum CUDAError: Error, Equatable, CustomStringConvertible {
    /// libcuda could not be opened (no NVIDIA driver on this machine).
    case driverNotFound(path: String, reason: String)
    /// The library opened but lacks an entry point moesim needs (a driver too old).
    case missingEntryPoint(path: String, symbol: String)
    /// A driver call returned an error.
    case call(String, code: Int32, message: String)
    /// The driver found no GPU.
    case noDevice
    /// The GPU lacks the memory a run needs.
    case outOfMemory(needed: Int, available: Int)

    public var description: String {
        switch self {
        case .driverNotFound(let path, let reason):
            return "cannot load the CUDA driver library '\(path)' (\(reason)). moesim's GPU commands need an NVIDIA GPU with its driver installed; set MOESIM_LIBCUDA to the library's path if it is elsewhere. Simulation (`moesim simulate`) needs no GPU."
        case .missingEntryPoint(let path, let symbol):
            return "the CUDA driver library '\(path)' has no entry point '\(symbol)'; install a newer NVIDIA driver (moesim's kernels need CUDA 13 / driver 580 or later)."
        case .call(let name, let code, let message):
            return "\(name) failed with CUDA error \(code) (\(message))."
        case .noDevice:
            return "the CUDA driver found no GPU (check nvidia-smi and CUDA_VISIBLE_DEVICES)."
        case .outOfMemory(let needed, let available):
            return "the run needs \(needed / (1 << 20)) MiB of GPU memory and \(available / (1 << 20)) MiB are free; use a smaller --cache-mib, or a smaller --batch (activation buffers grow with the tokens of a step)."
        }
    }
}
