import CGGMLHost
import TraceStore

/// llama.cpp's ggml CPU backend (`libggml-cpu.so`), loaded at run time: moesim neither links
/// nor ships ggml, so a calibration times the kernels of the ggml the user serves with.
public final class GGMLLibrary {
    let handle: OpaquePointer
    /// The file loaded.
    public let path: String

    /// Loads the library at `path`; an error names the file and why it cannot be used.
    public init(path: String) throws {
        var error = [CChar](repeating: 0, count: 512)
        guard let handle = moesim_ggml_open(path, &error, error.count) else {
            throw TraceStoreError(file: path, problem: Self.text(error),
                                  fix: "Give --ggml the path of llama.cpp's CPU backend library, libggml-cpu.so (its build's bin/ folder, or where it is installed).")
        }
        self.handle = handle
        self.path = path
    }

    deinit { moesim_ggml_close(handle) }

    /// ggml's number for the weight type `name`, as ggml names it (`q4_K`, `q6_K`, `q8_0`, `f16`).
    public func type(named name: String) throws -> Int32 {
        let type = moesim_ggml_type(handle, name)
        if type == -2 {
            throw TraceStoreError(file: path, problem: "quantises '\(name)' only with an importance matrix, which a timing has not got",
                                  fix: "Time a type of the same size that needs none (e.g. q2_K for the IQ2 types).")
        }
        guard type >= 0 else {
            throw TraceStoreError(file: path, problem: "has no weight type '\(name)'",
                                  fix: "Give a type as ggml names it: f32, f16, bf16, q8_0, q4_0, q4_K, q5_K, q6_K, …")
        }
        return type
    }

    /// The C string the shim wrote into `buffer`.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Bytes of a row of `count` weights of ggml type `type`.
    func rowBytes(type: Int32, count: Int) -> Int { Int(moesim_ggml_row_size(handle, type, Int64(count))) }
}
