import Testing
import TraceStore

@testable import CUDABackend

@Suite struct ModelPresetKernelShapeTests {
    @Test(arguments: ModelPreset.all)
    func moesimsKernelsReadEachPresetsExpertBytes(preset: ModelPreset) {
        #expect(6 * preset.hiddenSize * preset.kernelIntermediateSize == preset.expertBytes(.bf16), "\(preset.name)")
    }

    @Test func aSwitchExpertRunsAsTheSwiGLUExpertOfItsTwoMatrices() throws {
        let switchBase = try #require(ModelPreset.all.first { $0.name == "switch-base-128-encoder" })
        #expect(switchBase.matricesPerExpert == 2 && switchBase.expertIntermediateSize == 3_072)
        #expect(switchBase.kernelIntermediateSize == 2_048)
    }
}
