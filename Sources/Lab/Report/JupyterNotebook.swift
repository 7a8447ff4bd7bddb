import Foundation
import TOML

/// A Jupyter notebook in nbformat 4.5 (the JSON layout Jupyter, nbconvert and GitHub read:
/// https://nbformat.readthedocs.io/en/latest/format_description.html), written without
/// outputs so that running it draws everything afresh.
public struct JupyterNotebook: Sendable, Equatable {
    /// One cell: its stable id (nbformat 4.5 requires one per cell), kind and source text.
    public struct Cell: Sendable, Equatable {
        /// Markdown prose or Python code.
        public enum Kind: String, Sendable { case markdown, code }

        public var id: String
        public var kind: Kind
        public var source: String

        public init(id: String, kind: Kind, source: String) {
            self.id = id
            self.kind = kind
            self.source = source
        }
    }

    /// The cells, in order.
    public var cells: [Cell]

    public init(cells: [Cell]) {
        self.cells = cells
    }

    /// The notebook as `.ipynb` JSON: keys sorted and one-space indents as Jupyter itself
    /// writes them, each source split into lines, so that the same cells give the same bytes.
    public var json: String {
        var lines = ["{", " \"cells\": ["]
        for (index, cell) in cells.enumerated() {
            // Keys in sorted order, as Jupyter writes them.
            lines.append("  {")
            lines.append("   \"cell_type\": \(Self.quoted(cell.kind.rawValue)),")
            if cell.kind == .code { lines.append("   \"execution_count\": null,") }
            lines.append("   \"id\": \(Self.quoted(cell.id)),")
            lines.append("   \"metadata\": {},")
            if cell.kind == .code { lines.append("   \"outputs\": [],") }
            let source = Self.sourceLines(cell.source).map { "    " + Self.quoted($0) }
            lines.append(source.isEmpty ? "   \"source\": []" : "   \"source\": [\n" + source.joined(separator: ",\n") + "\n   ]")
            lines.append("  }" + (index == cells.count - 1 ? "" : ","))
        }
        lines.append(contentsOf: [
            " ],",
            " \"metadata\": {",
            "  \"kernelspec\": {",
            "   \"display_name\": \"Python 3\",",
            "   \"language\": \"python\",",
            "   \"name\": \"python3\"",
            "  },",
            "  \"language_info\": {",
            "   \"name\": \"python\"",
            "  }",
            " },",
            " \"nbformat\": 4,",
            " \"nbformat_minor\": 5",
            "}",
        ])
        return lines.joined(separator: "\n") + "\n"
    }

    /// A source as nbformat stores it: lines, each but the last keeping its newline.
    static func sourceLines(_ source: String) -> [String] {
        guard !source.isEmpty else { return [] }
        var lines = source.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines.enumerated().map { $0.offset == lines.count - 1 && !source.hasSuffix("\n") ? $0.element : $0.element + "\n" }
    }

    /// A JSON string literal (RFC 8259 escapes; non-ASCII kept as UTF-8). TOML's basic
    /// strings escape exactly as JSON does, so the TOML writer's escaper serves.
    static func quoted(_ text: String) -> String { TOMLValue.quoted(text) }
}
