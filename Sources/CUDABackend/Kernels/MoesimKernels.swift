import CCUDADriver

/// moesim's GPU kernels (Kernels/moesim_kernels.cu, loaded from its committed PTX): a
/// weight-streaming matrix-times-tokens kernel and its grouped form over several experts'
/// matrices in one launch, the SwiGLU between an expert's projections, an empty kernel
/// for launch gaps, and a kernel that occupies the GPU for a given time.
///
/// An expert's FFN is three launches (gate and up projections as one matrix, SwiGLU, down
/// projection), reading 3 × hidden × intermediate bf16 weights; attention and shared
/// experts in a replay are weight-streaming launches over their bytes.
public final class MoesimKernels {
    /// Launches per routed expert.
    public static let launchesPerExpert = 3
    /// Threads per block of the row kernel (8 warps, one row each).
    static let rowsPerBlock = 8

    let context: CUDAContext
    let module: CUmodule
    let rowsDot: CUfunction
    let groupedRowsDot: CUfunction
    let swiglu: CUfunction
    let empty: CUfunction
    let spin: CUfunction

    /// Loads the PTX into `context` (the driver JIT-compiles it for the GPU).
    public init(context: CUDAContext) throws {
        self.context = context
        let api = context.driver.api.pointee
        var module: CUmodule?
        try MoesimKernels.ptx.withCString { text in
            try context.driver.check(api.cuModuleLoadData(&module, text), "cuModuleLoadData(moesim_kernels.ptx)")
        }
        guard let module else { throw CUDAError.call("cuModuleLoadData", code: -1, message: "no module returned") }
        self.module = module
        func function(_ name: String) throws -> CUfunction {
            var function: CUfunction?
            try context.driver.check(api.cuModuleGetFunction(&function, module, name), "cuModuleGetFunction(\(name))")
            guard let function else { throw CUDAError.call("cuModuleGetFunction", code: -1, message: "no function \(name)") }
            return function
        }
        rowsDot = try function("moesim_rows_dot")
        groupedRowsDot = try function("moesim_grouped_rows_dot")
        swiglu = try function("moesim_swiglu")
        empty = try function("moesim_empty")
        spin = try function("moesim_spin")
    }

    deinit { _ = context.driver.api.pointee.cuModuleUnload(module) }

    /// out[t, r] = W[r, :] · x[t, :] for `rows` × `columns` bf16 weights at `weights` + `offset`
    /// and `tokens` fp32 activations; `columns` must be a multiple of 8.
    public func rows(_ weights: DeviceBuffer, offset: Int = 0, rows: Int, columns: Int, input: DeviceBuffer,
                     tokens: Int, output: DeviceBuffer, on stream: CUDAStream) throws {
        precondition(columns % 8 == 0 && offset + rows * columns * 2 <= weights.bytes, "weights out of bounds")
        precondition(tokens * columns * 4 <= input.bytes && tokens * rows * 4 <= output.bytes, "activations out of bounds")
        try launch(rowsDot, grid: (rows + Self.rowsPerBlock - 1) / Self.rowsPerBlock, block: Self.rowsPerBlock * 32, stream: stream,
                   name: "moesim_rows_dot", [.address(weights.address + CUdeviceptr(offset)), .int32(rows), .int32(columns),
                                             .address(input.address), .int32(tokens), .address(output.address)])
    }

    /// The product of ``rows(_:offset:rows:columns:input:tokens:output:on:)`` for `experts`
    /// matrices in one launch (a grid of row blocks × experts): expert e's bf16 weights start at
    /// the device address held in `addresses` at byte `addressOffset + 8e`, it reads `tokens`
    /// tokens at `input + e × inputStride` floats (0: all read the same tokens) and writes
    /// `output + e × tokens × rows` floats.
    public func groupedRows(addresses: DeviceBuffer, addressOffset: Int = 0, experts: Int, rows: Int, columns: Int,
                            input: DeviceBuffer, inputStride: Int, tokens: Int, output: DeviceBuffer, on stream: CUDAStream) throws {
        precondition(columns % 8 == 0 && experts >= 1 && addressOffset + 8 * experts <= addresses.bytes, "expert addresses out of bounds")
        precondition(((experts - 1) * inputStride + tokens * columns) * 4 <= input.bytes && experts * tokens * rows * 4 <= output.bytes,
                     "activations out of bounds")
        try launch(groupedRowsDot, grid: (rows + Self.rowsPerBlock - 1) / Self.rowsPerBlock, gridY: experts, block: Self.rowsPerBlock * 32,
                   stream: stream, name: "moesim_grouped_rows_dot",
                   [.address(addresses.address + CUdeviceptr(addressOffset)), .int32(rows), .int32(columns), .address(input.address),
                    .int64(inputStride), .int32(tokens), .address(output.address)])
    }

    /// h[t, i] = silu(gu[t, i]) × gu[t, intermediate + i].
    public func swiglu(_ gateUp: DeviceBuffer, intermediate: Int, tokens: Int, output: DeviceBuffer, on stream: CUDAStream) throws {
        try launch(swiglu, grid: (intermediate * tokens + 255) / 256, block: 256, stream: stream, name: "moesim_swiglu",
                   [.address(gateUp.address), .int32(intermediate), .int32(tokens), .address(output.address)])
    }

    /// An empty kernel.
    public func empty(on stream: CUDAStream) throws {
        try launch(empty, grid: 1, block: 32, stream: stream, name: "moesim_empty", [])
    }

    /// One thread that keeps the GPU busy for `nanoseconds` by its own clock (PTX
    /// `%globaltimer`): a stand-in for work the simulation times but has no kernel for.
    public func spin(nanoseconds: Int, on stream: CUDAStream) throws {
        try launch(spin, grid: 1, block: 1, stream: stream, name: "moesim_spin", [.int64(max(0, nanoseconds))])
    }

    /// One kernel parameter, of the type the kernel's signature declares.
    enum Argument {
        case address(CUdeviceptr)
        case int32(Int)
        case int64(Int)
    }

    /// Launches `function` with `arguments`: cuLaunchKernel reads each parameter through a
    /// pointer to its value, so the values go into 8-byte slots of a temporary buffer.
    private func launch(_ function: CUfunction, grid: Int, gridY: Int = 1, block: Int, stream: CUDAStream, name: String,
                        _ arguments: [Argument]) throws {
        let result = withUnsafeTemporaryAllocation(byteCount: max(8, 8 * arguments.count), alignment: 8) { slots in
            var pointers: [UnsafeMutableRawPointer?] = arguments.indices.map { slots.baseAddress! + 8 * $0 }
            for (slot, argument) in zip(pointers, arguments) {
                switch argument {
                case .address(let value): slot!.storeBytes(of: value, as: CUdeviceptr.self)
                case .int32(let value): slot!.storeBytes(of: Int32(value), as: Int32.self)
                case .int64(let value): slot!.storeBytes(of: Int64(value), as: Int64.self)
                }
            }
            return pointers.withUnsafeMutableBufferPointer { buffer in
                moesim_cuda_launch_grid(context.driver.api, function, UInt32(grid), UInt32(gridY), UInt32(block), stream.handle, buffer.baseAddress)
            }
        }
        try context.driver.check(result, "cuLaunchKernel(\(name))")
    }
}
