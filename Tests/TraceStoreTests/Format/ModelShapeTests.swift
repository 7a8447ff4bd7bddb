import Testing
import TraceStore

/// A trace's shape is checked against the ranges every later sum and allocation relies on.
@Suite("Model shape ranges")
struct ModelShapeTests {
    /// Shapes outside the ranges, by name (test arguments stay short in the log).
    static let outside: [String: ModelShape] = [
        "4096 layers of 65535 experts": ModelShape(name: "x", layers: 4_096, experts: 65_535, topK: 8),
        "4097 layers": ModelShape(name: "x", layers: 4_097, experts: 8, topK: 2),
        "top-65535 over 32 layers": ModelShape(name: "x", layers: 32, experts: 65_535, topK: 65_535),
        "65 shared experts": ModelShape(name: "x", layers: 2, experts: 8, topK: 2, sharedExperts: 65),
        "hidden size 2^23": ModelShape(name: "x", layers: 2, experts: 8, topK: 2, hiddenSize: 1 << 23),
        "a 32 GiB expert": ModelShape(name: "x", layers: 2, experts: 8, topK: 2, expertBytes: [1 << 35, 1]),
        "5 layers of 65535 16-GiB experts": ModelShape(name: "x", layers: 5, experts: 65_535, topK: 2, expertBytes: Array(repeating: 1 << 34, count: 5)),
        "negative dense bytes": ModelShape(name: "x", layers: 2, experts: 8, topK: 2, denseBytes: [0, -1]),
    ]

    @Test("a shape outside the supported ranges is refused with what it has", arguments: [
        ("4096 layers of 65535 experts", "layers × 65535 experts"),
        ("4097 layers", "has 4097 MoE layers"),
        ("top-65535 over 32 layers", "routes 2097120 decisions per token"),
        ("65 shared experts", "65 shared experts"),
        ("hidden size 2^23", "hidden size 8388608"),
        ("a 32 GiB expert", "layer 0 experts of 34359738368 bytes"),
        ("5 layers of 65535 16-GiB experts", "totalling more than 4 PiB"),
        ("negative dense bytes", "layer 1 dense weights of -1 bytes"),
    ])
    func outOfRange(name: String, message: String) throws {
        let shape = try #require(Self.outside[name])
        let error = #expect(throws: TraceStoreError.self) { try shape.validate(file: "t.sqlite") }
        #expect(error?.problem.contains(message) == true, "\(error?.problem ?? "")")
    }

    @Test("every model preset's shape, with its experts' sizes, is within every range", arguments: ModelPreset.all.map(\.name))
    func presetsFit(name: String) throws {
        try #require(ModelPreset.named(name)).shape().validate(file: "t.sqlite")
    }
}
