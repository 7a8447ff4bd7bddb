import Foundation

/// Paths every test target shares: the repository, the real traces beside it, and fresh
/// temporary folders.
public enum Repository {
    /// The repository root (two levels above this file's folder).
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `../shared/traces` beside the repository, when present.
    public static let sharedTraces: String? = {
        let path = URL(fileURLWithPath: root).deletingLastPathComponent().appendingPathComponent("shared/traces").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }()

    /// The real traces, or nil after printing why the calling test skips.
    public static func requireShared() -> String? {
        if sharedTraces == nil { print("skipping: ../shared/traces is not present beside the repository") }
        return sharedTraces
    }

    /// A fresh temporary folder.
    public static func temporaryFolder() -> String {
        let path = NSTemporaryDirectory() + "moesim-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
