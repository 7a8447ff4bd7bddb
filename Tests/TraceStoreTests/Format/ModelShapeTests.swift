import Testing
import TraceStore

/// A trace's shape is checked against the ranges every later sum and allocation relies on.
@Suite("Model shape ranges")
struct ModelShapeTests {
    @Test("a shape outside the supported ranges is refused with what it has", arguments: [
        (ModelShape(name: "x", layers: 4_096, experts: 65_535, topK: 8), "layers × 65535 experts"),
        (ModelShape(name: "x", layers: 4_097, experts: 8, topK: 2), "has 4097 MoE layers"),
        (ModelShape(name: "x", layers: 32, experts: 65_535, topK: 65_535), "routes 2097120 decisions per token"),
        (ModelShape(name: "x", layers: 2, experts: 8, topK: 2, sharedExperts: 65), "65 shared experts"),
        (ModelShape(name: "x", layers: 2, experts: 8, topK: 2, hiddenSize: 1 << 23), "hidden size 8388608"),
        (ModelShape(name: "x", layers: 2, experts: 8, topK: 2, expertBytes: [1 << 35, 1]), "layer 0 experts of 34359738368 bytes"),
        (ModelShape(name: "x", layers: 5, experts: 65_535, topK: 2, expertBytes: Array(repeating: 1 << 34, count: 5)), "totalling more than 4 PiB"),
        (ModelShape(name: "x", layers: 2, experts: 8, topK: 2, denseBytes: [0, -1]), "layer 1 dense weights of -1 bytes"),
    ])
    func outOfRange(shape: ModelShape, message: String) {
        let error = #expect(throws: TraceStoreError.self) { try shape.validate(file: "t.sqlite") }
        #expect(error?.problem.contains(message) == true, "\(error?.problem ?? "")")
    }

    @Test("every model preset's shape, with its experts' sizes, is within every range", arguments: ModelPreset.all.map(\.name))
    func presetsFit(name: String) throws {
        try #require(ModelPreset.named(name)).shape().validate(file: "t.sqlite")
    }
}
