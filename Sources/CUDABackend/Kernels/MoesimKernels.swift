import CCUDADriver

/// moesim's GPU kernels (Kernels/moesim_kernels.cu, loaded from its committed PTX): a
/// weight-streaming matrix-times-tokens kernel and its grouped form over several experts'
/// matrices in one launch, the SwiGLU between an expert's projections, and an empty kernel
/// for launch gaps.
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
    }

    deinit { _ = context.driver.api.pointee.cuModuleUnload(module) }

    /// out[t, r] = W[r, :] · x[t, :] for `rows` × `columns` bf16 weights at `weights` + `offset`
    /// and `tokens` fp32 activations; `columns` must be a multiple of 8.
    public func rows(_ weights: DeviceBuffer, offset: Int = 0, rows: Int, columns: Int, input: DeviceBuffer,
                     tokens: Int, output: DeviceBuffer, on stream: CUDAStream) throws {
        precondition(columns % 8 == 0 && offset + rows * columns * 2 <= weights.bytes, "weights out of bounds")
        precondition(tokens * columns * 4 <= input.bytes && tokens * rows * 4 <= output.bytes, "activations out of bounds")
        var w = weights.address + CUdeviceptr(offset)
        var r = Int32(rows)
        var c = Int32(columns)
        var x = input.address
        var t = Int32(tokens)
        var y = output.address
        let grid = (rows + Self.rowsPerBlock - 1) / Self.rowsPerBlock
        try withUnsafeMutablePointer(to: &w) { w in
            try withUnsafeMutablePointer(to: &r) { r in
                try withUnsafeMutablePointer(to: &c) { c in
                    try withUnsafeMutablePointer(to: &x) { x in
                        try withUnsafeMutablePointer(to: &t) { t in
                            try withUnsafeMutablePointer(to: &y) { y in
                                var arguments: [UnsafeMutableRawPointer?] = [.init(w), .init(r), .init(c), .init(x), .init(t), .init(y)]
                                try launch(rowsDot, grid: grid, block: Self.rowsPerBlock * 32, stream: stream, arguments: &arguments, name: "moesim_rows_dot")
                            }
                        }
                    }
                }
            }
        }
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
        var arguments: (CUdeviceptr, Int32, Int32, CUdeviceptr, Int64, Int32, CUdeviceptr) =
            (addresses.address + CUdeviceptr(addressOffset), Int32(rows), Int32(columns), input.address, Int64(inputStride),
             Int32(tokens), output.address)
        let grid = (rows + Self.rowsPerBlock - 1) / Self.rowsPerBlock
        try withUnsafeMutablePointer(to: &arguments) { tuple in
            try withUnsafeMutablePointer(to: &tuple.pointee.0) { e in
                try withUnsafeMutablePointer(to: &tuple.pointee.1) { r in
                    try withUnsafeMutablePointer(to: &tuple.pointee.2) { c in
                        try withUnsafeMutablePointer(to: &tuple.pointee.3) { x in
                            try withUnsafeMutablePointer(to: &tuple.pointee.4) { stride in
                                try withUnsafeMutablePointer(to: &tuple.pointee.5) { t in
                                    try withUnsafeMutablePointer(to: &tuple.pointee.6) { y in
                                        var pointers: [UnsafeMutableRawPointer?] = [.init(e), .init(r), .init(c), .init(x), .init(stride), .init(t), .init(y)]
                                        try launch(groupedRowsDot, grid: grid, gridY: experts, block: Self.rowsPerBlock * 32, stream: stream,
                                                   arguments: &pointers, name: "moesim_grouped_rows_dot")
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// h[t, i] = silu(gu[t, i]) × gu[t, intermediate + i].
    public func swiglu(_ gateUp: DeviceBuffer, intermediate: Int, tokens: Int, output: DeviceBuffer, on stream: CUDAStream) throws {
        var g = gateUp.address
        var n = Int32(intermediate)
        var t = Int32(tokens)
        var h = output.address
        let grid = (intermediate * tokens + 255) / 256
        try withUnsafeMutablePointer(to: &g) { g in
            try withUnsafeMutablePointer(to: &n) { n in
                try withUnsafeMutablePointer(to: &t) { t in
                    try withUnsafeMutablePointer(to: &h) { h in
                        var arguments: [UnsafeMutableRawPointer?] = [.init(g), .init(n), .init(t), .init(h)]
                        try launch(swiglu, grid: grid, block: 256, stream: stream, arguments: &arguments, name: "moesim_swiglu")
                    }
                }
            }
        }
    }

    /// An empty kernel.
    public func empty(on stream: CUDAStream) throws {
        var arguments: [UnsafeMutableRawPointer?] = []
        try launch(empty, grid: 1, block: 32, stream: stream, arguments: &arguments, name: "moesim_empty")
    }

    private func launch(_ function: CUfunction, grid: Int, gridY: Int = 1, block: Int, stream: CUDAStream,
                        arguments: inout [UnsafeMutableRawPointer?], name: String) throws {
        let result = arguments.withUnsafeMutableBufferPointer { buffer in
            moesim_cuda_launch_grid(context.driver.api, function, UInt32(grid), UInt32(gridY), UInt32(block), stream.handle, buffer.baseAddress)
        }
        try context.driver.check(result, "cuLaunchKernel(\(name))")
    }
}
