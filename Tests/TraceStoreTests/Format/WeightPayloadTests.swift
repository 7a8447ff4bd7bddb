import Testing
@testable import TraceStore

@Suite("Weight payload")
struct WeightPayloadTests {
    /// A weight payload of `layers` × `tokens` × top-`k` weights, and a chunk shaped to decode it.
    static func payload(_ weights: [UInt16], layers: Int, tokens: Int, topK k: Int) -> (bytes: [UInt8], chunk: RoutingChunk) {
        var chunk = RoutingChunk(layers: layers, topK: k)
        chunk.tokenCount = tokens
        chunk.weightBits = weights
        return (WeightPayload.encode(chunk), chunk)
    }

    @Test("the decoder refuses exactly the fp16 patterns isValidWeight refuses, for every pattern")
    func everyPatternAgreesWithTheCheck() throws {
        var disagreements: [UInt16] = []
        for bits in UInt16.min...UInt16.max {
            var (bytes, chunk) = Self.payload([bits], layers: 1, tokens: 1, topK: 1)
            chunk.weightBits = []
            let decoded = (try? bytes.withUnsafeBytes { try WeightPayload.decode($0, into: &chunk) }) != nil
            if decoded != WeightPayload.isValidWeight(bits) || (decoded && chunk.weightBits != [bits]) { disagreements.append(bits) }
        }
        #expect(disagreements.isEmpty, "patterns decoded otherwise than checked: \(disagreements.prefix(8))")
        #expect(!WeightPayload.isValidWeight(0x7C00) && !WeightPayload.isValidWeight(0x8001) && WeightPayload.isValidWeight(0x8000))
    }

    @Test("one invalid weight among many valid ones is refused and named by its layer", arguments: [0, 777, 1_199])
    func invalidAmongValid(position: Int) throws {
        // 3 layers × 100 tokens × top-4: 1,200 weights, the loop's vector body and its tail.
        var weights = (0..<1_200).map { UInt16(0x3000 + $0 % 1_000) }
        weights[position] = 0xFC00
        var (bytes, chunk) = Self.payload(weights, layers: 3, tokens: 100, topK: 4)
        let error = #expect(throws: PayloadError.self) { try bytes.withUnsafeBytes { try WeightPayload.decode($0, into: &chunk) } }
        #expect(error?.problem.contains("gate weight -inf") == true && error?.problem.contains("at layer \(position / 400)") == true, "\(String(describing: error))")
    }
}
