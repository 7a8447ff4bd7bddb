import CZstd

/// A reusable zstd compression context (one `ZSTD_CCtx`).
///
/// Frames carry their content size and a checksum, so that a reader can check a blob's
/// length before decoding and detect corruption (zstd format, RFC 8878 §3.1.1).
public final class ZstdCompressor {
    private let context: OpaquePointer
    /// The compression level (1 = fast … 19 = small; 3 is zstd's default; below 0, zstd's
    /// fast levels, as `zstd --fast=N`).
    public let level: Int32
    /// A buffer for its user to encode a frame's input into and keep from frame to frame (a
    /// compressor serves one thread at a time): a trace writer's payloads then reuse one
    /// allocation instead of faulting in fresh pages for every chunk.
    public var inputBuffer: [UInt8] = []

    /// The levels this libzstd accepts (`ZSTD_minCLevel()` … `ZSTD_maxCLevel()`: −131072 … 22
    /// in zstd 1.5); 0 among them means zstd's default, 3.
    public static var levels: ClosedRange<Int32> { ZSTD_minCLevel()...ZSTD_maxCLevel() }

    /// Creates a context that writes frames at `level` with checksums on.
    public init(level: Int32) {
        context = ZSTD_createCCtx()
        self.level = level
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)
    }

    deinit {
        ZSTD_freeCCtx(context)
    }

    /// Frames handed back by their user, whose storage the next frames are written into
    /// (``compress(_:)-(UnsafeRawBufferPointer)`` takes the last): a trace writer's output then
    /// reuses memory instead of faulting in fresh pages for every chunk. The bytes written are the
    /// same either way (zstd's output does not depend on room beyond `ZSTD_compressBound`).
    public var spareFrames: [[UInt8]] = []

    /// Compresses `input` into one zstd frame, in a spare frame's storage when there is one.
    public func compress(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        if var frame = spareFrames.popLast() {
            // Lengthened to the bound (its storage kept where large enough), written, then cut to the frame.
            if frame.count < bound { frame.append(contentsOf: repeatElement(0, count: bound - frame.count)) }
            let written = frame.withUnsafeMutableBytes { compress(input, into: $0) }
            frame.removeLast(frame.count - written)
            return frame
        }
        // Uninitialised: zstd writes what it returns; zero-filling the bound first was 1.4% of `trace synth`.
        return [UInt8](unsafeUninitializedCapacity: bound) { out, initialized in
            initialized = compress(input, into: UnsafeMutableRawBufferPointer(out))
        }
    }

    /// Writes `input` as one frame into `out` (at least `ZSTD_compressBound` bytes); returns its length.
    private func compress(_ input: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int {
        let written = ZSTD_compress2(context, out.baseAddress, out.count, input.baseAddress, input.count)
        // ZSTD_compress2 into a buffer of compressBound size cannot fail but for memory.
        precondition(ZSTD_isError(written) == 0, "zstd: \(String(cString: ZSTD_getErrorName(written)))")
        return written
    }

    /// Compresses the bytes of `input` into one zstd frame.
    public func compress(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBytes { compress($0) }
    }
}

/// A reusable zstd decompression context (one `ZSTD_DCtx`).
public final class ZstdDecompressor {
    /// Why a blob could not be decompressed.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The frame header is missing or damaged.
        case notAFrame
        /// The frame declares a size other than the one expected.
        case wrongSize(declared: Int, expected: Int)
        /// zstd itself failed (bad data, checksum mismatch, truncation).
        case zstd(String)

        public var description: String {
            switch self {
            case .notAFrame: return "is not a zstd frame"
            case let .wrongSize(declared, expected): return "decompresses to \(declared) bytes where \(expected) were expected"
            case let .zstd(message): return "fails to decompress (zstd: \(message))"
            }
        }
    }

    private let context: OpaquePointer

    /// Creates a decompression context.
    public init() {
        context = ZSTD_createDCtx()
    }

    deinit {
        ZSTD_freeDCtx(context)
    }

    /// The content size declared in the frame header, or nil if absent or invalid.
    public static func declaredSize(_ frame: UnsafeRawBufferPointer) -> Int? {
        guard frame.count > 0 else { return nil }
        let size = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        if size == moesim_zstd_contentsize_error() || size == moesim_zstd_contentsize_unknown() { return nil }
        return size > UInt64(Int.max) ? nil : Int(size)
    }

    /// Decompresses one frame into `output`, replacing its contents.
    ///
    /// - Parameter limit: the largest declared size accepted, so that a damaged header
    ///   cannot make the reader allocate without bound.
    /// - Complexity: O(n) in the decompressed size; `output`'s storage is reused.
    public func decompress(_ frame: UnsafeRawBufferPointer, into output: inout [UInt8], limit: Int) throws {
        guard let size = Self.declaredSize(frame) else { throw Failure.notAFrame }
        guard size <= limit else { throw Failure.wrongSize(declared: size, expected: limit) }
        output.removeAll(keepingCapacity: true)
        output.reserveCapacity(size)
        var failure: Failure?
        output.append(contentsOf: repeatElement(0, count: size))
        output.withUnsafeMutableBytes { out in
            let written = ZSTD_decompressDCtx(context, out.baseAddress, size, frame.baseAddress, frame.count)
            if ZSTD_isError(written) != 0 {
                failure = .zstd(String(cString: ZSTD_getErrorName(written)))
            } else if written != size {
                failure = .wrongSize(declared: written, expected: size)
            }
        }
        if let failure { throw failure }
    }
}
