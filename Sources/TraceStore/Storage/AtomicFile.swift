#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes that appear under their final name only when complete: the data goes to
/// `NAME.partial`, is flushed to disk, then renamed over `NAME` (rename(2) is atomic
/// within a file system). A process killed mid-write leaves at most the `.partial` file.
public enum AtomicFile {
    /// The temporary path used while `path` is being written.
    public static func temporaryPath(for path: String) -> String { path + ".partial" }

    /// Flushes `temporary` to disk and renames it to `path`, then flushes the folder entry.
    public static func commit(_ temporary: String, to path: String) throws {
        let fd = open(temporary, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            remove(temporary)
            throw TraceStoreError(file: path, problem: "cannot move the finished file into place (\(reason))",
                                  fix: "Check that the output folder exists and is writable.")
        }
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let dirfd = open(folder.isEmpty ? "/" : folder, O_RDONLY)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
    }

    /// Writes `text` to `path` atomically (via `path.partial`), replacing any file there.
    public static func write(_ text: String, to path: String) throws {
        let temporary = temporaryPath(for: path)
        guard let file = fopen(temporary, "w") else {
            throw TraceStoreError(file: path, problem: "cannot be written (\(String(cString: strerror(errno))))",
                                  fix: "Check that the output folder exists and is writable.")
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        let closed = fclose(file)
        guard written == bytes.count, closed == 0 else {
            remove(temporary)
            throw TraceStoreError(file: path, problem: "could not be written in full (disk full?)",
                                  fix: "Free space or choose another output path.")
        }
        try commit(temporary, to: path)
    }

    /// Throws when writing `output` (or its `.partial` file) would replace one of `inputs`:
    /// the same file by device and inode, so another spelling of a path or a hard link is
    /// caught too. `flag` names the option that gave `output`.
    public static func refuseOverwriting(inputs: [String], output: String, flag: String = "-o") throws {
        for target in [output, temporaryPath(for: output)] {
            var written = stat()
            guard stat(target, &written) == 0 else { continue }
            for input in inputs {
                var read = stat()
                if stat(input, &read) == 0, read.st_dev == written.st_dev, read.st_ino == written.st_ino {
                    throw TraceStoreError(file: output, place: flag,
                                          problem: target == output ? "is also an input (\(input)): writing it would destroy that input"
                                                                    : "would be written through \(target), which is an input (\(input))",
                                          fix: "Choose an output path that is not one of the inputs.")
                }
            }
        }
    }

    /// Removes `path` if it exists.
    public static func remove(_ path: String) {
        unlink(path)
    }

    /// Whether a file exists at `path`.
    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Size of the file at `path` in bytes, or nil.
    public static func size(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_size)
    }
}
