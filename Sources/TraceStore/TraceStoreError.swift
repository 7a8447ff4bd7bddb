/// An error about a user's file: it names the file, the place in it, what is wrong
/// and what to do, so that the CLI can print it verbatim and exit with status 2.
public struct TraceStoreError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (or folder) the problem is in.
    public var file: String
    /// Where in the file: "line 12", "chunk 3", "record 40 (problem 1, token 7)"; empty when the whole file.
    public var place: String
    /// What is wrong, as a sentence fragment.
    public var problem: String
    /// What the user should do about it.
    public var fix: String

    /// Creates an error; see the properties for what each part says.
    public init(file: String, place: String = "", problem: String, fix: String) {
        self.file = file
        self.place = place
        self.problem = problem
        self.fix = fix
    }

    public var description: String {
        let location = place.isEmpty ? file : "\(file): \(place)"
        return "\(location): \(problem). \(fix)"
    }
}
