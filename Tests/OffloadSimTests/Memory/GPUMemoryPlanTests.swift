import OffloadSim
import Testing
import TraceStore

@Suite("GPU memory plan")
struct GPUMemoryPlanTests {
    static let qwen = ModelPreset.named("qwen3-30b-a3b")!

    /// Qwen3-30B-A3B: embedding and untied head 2 × 151,936 × 2,048 = 622,329,856; attention
    /// 48 × 18,874,368 = 905,969,664; routers 48 × 2,048 × 128 = 12,582,912 parameters; bf16.
    @Test("resident weights are the embedding, head, attention and routers in bf16")
    func qwenResidentWeights() {
        #expect(Self.qwen.residentWeightBytes == 2 * (622_329_856 + 905_969_664 + 12_582_912))
    }

    /// DeepSeek-V2-Lite adds its dense first layer (3 × 2,048 × 10,944) and 2 shared experts
    /// per MoE layer (26 × 2 × 8,650,752), and has 27 attention layers.
    @Test("dense layers and shared experts count as resident")
    func deepSeekResidentWeights() throws {
        let preset = try #require(ModelPreset.named("deepseek-v2-lite"))
        let parameters = 2 * 102_400 * 2_048 + 27 * 13_762_560 + 3 * 2_048 * 10_944 + 26 * (2_048 * 64 + 2 * 8_650_752)
        #expect(preset.residentWeightBytes == 2 * parameters)
    }

    /// A model run in float32 keeps every weight at 4 bytes: the resident weights and each
    /// layer's attention double, the experts are 4 bytes per parameter.
    @Test("an fp32 model's resident and attention weights are twice its bf16 figures")
    func fp32Weights() throws {
        let preset = try #require(ModelPreset.named("switch-base-128-encoder"))
        let bf16 = try ModelCost.resolve(shape: preset.shape(), preset: preset)
        let fp32 = try ModelCost.resolve(shape: preset.shape(), preset: preset, dtype: .fp32)
        #expect(fp32.residentWeightBytes == 2 * bf16.residentWeightBytes)
        #expect(fp32.attentionBytes == 2 * bf16.attentionBytes)
        #expect(fp32.expertBytes == Array(repeating: 4 * preset.expertParameters, count: 6))
        #expect(fp32.assumptions.contains { $0.hasPrefix("fp32 model") } && !bf16.assumptions.contains { $0.hasPrefix("fp32 model") })
    }

    /// 64k context + 122 generated tokens × 2,048 B per token per layer × 48 layers; the yalis
    /// engine's 2 buffer sets of 128 experts of 9,437,184 B.
    @Test("KV cache and engine buffers follow the context, the batch and the engine")
    func kvCacheAndBuffers() throws {
        let cost = try ModelCost.resolve(shape: Self.qwen.shape(), preset: Self.qwen)
        let profile = HardwareProfile.preset(named: "rtx-a6000")!
        let plan = GPUMemoryPlan(model: cost, profile: profile, engine: .yalis, batch: 1, sequenceTokens: 65_536 + 122, stepTokens: 8, topK: 8)
        #expect(plan.kvCacheBytes == (65_536 + 122) * 2_048 * 48)
        #expect(plan.engineBufferBytes == 2 * 128 * 9_437_184)
        #expect(plan.totalBytes == 48 << 30)
        #expect(plan.roomForCacheBytes == plan.totalBytes - plan.residentWeightBytes - plan.kvCacheBytes - plan.activationBytes - plan.engineBufferBytes)
        let streaming = GPUMemoryPlan(model: cost, profile: profile, engine: .moesim, batch: 1, sequenceTokens: 1, stepTokens: 1, topK: 8)
        #expect(streaming.engineBufferBytes == 2 * 9_437_184)
    }

    @Test("absurd sizes saturate instead of trapping, and then nothing fits")
    func absurdSizesSaturate() throws {
        let cost = try ModelCost.resolve(shape: Self.qwen.shape(), preset: Self.qwen)
        let plan = GPUMemoryPlan(model: cost, profile: HardwareProfile.preset(named: "t4")!, engine: .moesim, batch: Int.max / 2,
                                 sequenceTokens: Int.max / 2, stepTokens: 1, topK: 8)
        #expect(plan.kvCacheBytes == Int.max)
        #expect(plan.roomForCacheBytes < 0)
    }
}
