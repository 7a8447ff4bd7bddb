import Testing
@testable import TraceStore

@Suite("Token check")
struct TokenCheckTests {
    @Test("each layer is stored with its ids ascending and their weights beside them, through the bitset and the insertion sort alike",
          arguments: [(8, 2), (64, 6), (128, 8), (128, 1), (512, 8), (513, 4), (1000, 6)])
    func storedOrder(experts: Int, k: Int) {
        var random = SplitMix64(seed: UInt64(experts * 10 + k))
        let layers = 5
        for _ in 0..<200 {
            var ids: [UInt16] = [], weights: [UInt16] = []
            for _ in 0..<layers {
                var layer = Set<UInt16>()
                while layer.count < k { layer.insert(UInt16(random.int(below: experts))) }
                ids += layer.shuffled(using: &random)
                weights += (0..<k).map { _ in UInt16(random.int(below: 0x7c00)) }
            }
            var storedIDs = [UInt16](repeating: 0, count: ids.count), storedWeights = storedIDs
            storedIDs.withUnsafeMutableBufferPointer { outIDs in
                storedWeights.withUnsafeMutableBufferPointer { outWeights in
                    TokenCheck.writeStored(ids: ids, weightBits: weights, absent: [], topK: k, experts: experts, into: outIDs, outWeights,
                                           at: 0, layerStride: k)
                }
            }
            for l in 0..<layers {
                let expected = (l * k..<(l + 1) * k).map { (ids[$0], weights[$0]) }.sorted { $0.0 < $1.0 }
                #expect(Array(storedIDs[l * k..<(l + 1) * k]) == expected.map(\.0))
                #expect(Array(storedWeights[l * k..<(l + 1) * k]) == expected.map(\.1))
            }
        }
    }

    @Test("a token's first fault in slot order is the one named, on a shape the bitset checks", arguments: [
        ([UInt16]([0, 1, 2, 5, 200, 5]), "routes layer 1 to expert 200, outside 0..<128"),
        ([UInt16]([0, 1, 2, 5, 5, 200]), "routes layer 1 to expert 5 twice"),
        ([UInt16]([0, 0, 200, 5, 6, 7]), "routes layer 0 to expert 0 twice"),
    ])
    func firstFaultNamed(ids: [UInt16], problem: String) {
        let shape = ModelShape(name: "wide", layers: 2, experts: 128, topK: 3, expertBytes: [1, 1])
        let error = #expect(throws: TraceWriter.InvalidToken.self) {
            try TokenCheck.check(ids: ids, weights: [UInt16]?.none, absentLayers: [], shape: shape, hasWeights: false,
                                 isValid: { _ in true }, value: { Float($0) })
        }
        #expect(error?.problem.hasPrefix(problem) == true, "\(error?.problem ?? "no error")")
    }

    @Test("an invalid weight is named after valid ids, on a shape the bitset checks")
    func invalidWeightNamed() {
        let shape = ModelShape(name: "wide", layers: 2, experts: 128, topK: 3, expertBytes: [1, 1])
        let negative = Float16(-0.5).bitPattern, half = Float16(0.5).bitPattern
        let error = #expect(throws: TraceWriter.InvalidToken.self) {
            try TokenCheck.check(ids: [0, 1, 2, 3, 4, 5], weights: [half, half, half, half, negative, half], absentLayers: [], shape: shape,
                                 hasWeights: true, isValid: WeightPayload.isValidWeight, value: { Float(Float16(bitPattern: $0)) })
        }
        #expect(error?.problem.hasPrefix("has gate weight -0.5 at layer 1") == true, "\(error?.problem ?? "no error")")
    }
}
