import Foundation

/// libFuzzer's driver (`-sanitize=fuzzer` links it).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The fuzzer. The target is chosen by `MOESIM_FUZZ_TARGET` (one binary, one corpus folder
/// per target); `MOESIM_FUZZ_SEEDS=FOLDER` writes the target's generated seeds there and
/// exits. An input may make moesim throw (that is a clear error); it may not trap, hang or
/// exhaust memory, which libFuzzer reports as a crash. Arguments are libFuzzer's.
///
/// Whichever `main` the link keeps (SwiftPM's, which runs the driver, or libFuzzer's own),
/// libFuzzer calls ``fuzzerInitialize`` first and ``fuzzerTestOneInput`` per input.
@main
enum FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzerTestOneInput(data, size) })
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutableRawPointer) -> Int32 {
    let environment = ProcessInfo.processInfo.environment
    guard let name = environment["MOESIM_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("set MOESIM_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    FuzzTarget.current = target
    if let folder = environment["MOESIM_FUZZ_SEEDS"] {
        do {
            try target.writeSeeds(to: folder)
        } catch {
            FileHandle.standardError.write(Data("could not write seeds: \(error)\n".utf8))
            exit(1)
        }
        exit(0)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTarget.current.run(size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
