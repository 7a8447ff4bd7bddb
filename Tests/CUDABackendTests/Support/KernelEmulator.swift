import Foundation
import TestSupport

/// moesim's CUDA kernels run on the CPU (Fixtures/kernel_emulator.cpp compiles
/// moesim_kernels.cu as host C++), built once with the system C++ compiler and loaded with
/// dlopen: what the kernels compute can be checked without a GPU.
enum KernelEmulator {
    private static let library: String = {
        let fixtures = Repository.root + "/Tests/CUDABackendTests/Fixtures"
        let output = Repository.temporaryFolder() + "/libmoesim-kernel-emulator.so"
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compiler.arguments = ["c++", "-std=c++20", "-shared", "-fPIC", "-O1", "-pthread", "-I", fixtures + "/emulator", "-o", output,
                              fixtures + "/kernel_emulator.cpp"]
        try! compiler.run()
        compiler.waitUntilExit()
        precondition(compiler.terminationStatus == 0, "c++ failed to build the kernel emulator")
        return output
    }()

    /// The entry point `name`; the loader keeps one instance of the library however often it is opened.
    private static func function<T>(_ name: String, as type: T.Type) -> T {
        unsafeBitCast(dlsym(dlopen(library, RTLD_NOW | RTLD_LOCAL)!, name)!, to: type)
    }

    /// moesim_rows_dot over `weights` (bf16 bits, rows × cols) and `x` (tokens × cols); returns tokens × rows.
    static func rowsDot(weights: [UInt16], rows: Int, cols: Int, x: [Float], tokens: Int) -> [Float] {
        typealias Kernel = @convention(c) (UnsafePointer<UInt16>, Int32, Int32, UnsafePointer<Float>, Int32, UnsafeMutablePointer<Float>) -> Void
        var out = [Float](repeating: .nan, count: tokens * rows)
        function("moesim_emulate_rows_dot", as: Kernel.self)(weights, Int32(rows), Int32(cols), x, Int32(tokens), &out)
        return out
    }

    /// moesim_grouped_rows_dot over one weight matrix per expert (each its own allocation, in
    /// the order given) and `x` read at `xStride` floats per expert; returns experts × tokens × rows.
    static func groupedRowsDot(experts: [[UInt16]], rows: Int, cols: Int, x: [Float], xStride: Int, tokens: Int) -> [Float] {
        typealias Kernel = @convention(c) (UnsafePointer<UInt64>, Int32, Int32, Int32, UnsafePointer<Float>, Int64, Int32,
                                           UnsafeMutablePointer<Float>) -> Void
        let buffers = experts.map { weights -> UnsafeMutablePointer<UInt16> in
            let buffer = UnsafeMutablePointer<UInt16>.allocate(capacity: weights.count)
            buffer.initialize(from: weights, count: weights.count)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        let addresses = buffers.map { UInt64(UInt(bitPattern: $0)) }
        var out = [Float](repeating: .nan, count: experts.count * tokens * rows)
        function("moesim_emulate_grouped_rows_dot", as: Kernel.self)(addresses, Int32(experts.count), Int32(rows), Int32(cols), x,
                                                                     Int64(xStride), Int32(tokens), &out)
        return out
    }

    /// moesim_swiglu over `gateUp` (tokens × 2·intermediate); returns tokens × intermediate.
    static func swiglu(gateUp: [Float], intermediate: Int, tokens: Int) -> [Float] {
        typealias Kernel = @convention(c) (UnsafePointer<Float>, Int32, Int32, UnsafeMutablePointer<Float>) -> Void
        var out = [Float](repeating: .nan, count: tokens * intermediate)
        function("moesim_emulate_swiglu", as: Kernel.self)(gateUp, Int32(intermediate), Int32(tokens), &out)
        return out
    }

    /// moesim_spin for `nanoseconds` (one block of 32 threads, each spinning on the host's clock).
    static func spin(nanoseconds: UInt64) {
        typealias Kernel = @convention(c) (UInt64) -> Void
        function("moesim_emulate_spin", as: Kernel.self)(nanoseconds)
    }
}
