import Foundation

/// Every file in a folder (recursively) with its bytes, to show that a refused command
/// created, changed and removed nothing.
public struct FolderSnapshot: Equatable {
    /// Relative path → contents.
    public let files: [String: Data]

    /// Reads `folder` now.
    public init(_ folder: String) {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: folder)
        while let name = enumerator?.nextObject() as? String {
            var isFolder: ObjCBool = false
            let path = folder + "/" + name
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
                files[name] = FileManager.default.contents(atPath: path)
            }
        }
        self.files = files
    }
}
