import Testing
import TraceStore

@Suite("Model presets")
struct ModelPresetTests {
    @Test("a Qwen3-30B-A3B expert is 9.44 MB in bf16, as the seed paper's setup says")
    func qwenExpertBytes() throws {
        let qwen = try #require(ModelPreset.named("Qwen3-30B-A3B"))
        #expect(qwen.expertBytes(.bf16) == 9_437_184)
        // 48 layers × top-8 × 9.44 MB ≈ 3.6 GB moved by a decode token that hits no cache (DESIGN.md §1).
        #expect(qwen.moeLayers.count * qwen.topK * qwen.expertBytes(.bf16) == 3_623_878_656)
    }

    @Test("a DeepSeek-V2-Lite expert is 17.3 MB in bf16 and the model has 26 MoE layers after one dense layer")
    func deepseek() throws {
        let model = try #require(ModelPreset.named("deepseek-v2-lite"))
        #expect(model.expertBytes(.bf16) == 17_301_504)
        #expect(model.moeLayers == Array(1...26))
    }

    @Test("a GPT-OSS expert in MXFP4 is the 13,219,200 bytes the route CSV's header gives")
    func gptOSSMXFP4() throws {
        #expect(try #require(ModelPreset.named("gpt-oss-120b")).expertBytes(.mxfp4) == 13_219_200)
    }

    @Test("Switch-base-128 has two-matrix experts on every other layer of encoder and decoder")
    func switchBase() throws {
        let model = try #require(ModelPreset.named("switch-base-128"))
        #expect(model.moeLayers.count == 12)
        #expect(model.expertParameters == 2 * 768 * 3072)
    }

    @Test("an unknown model name lists the valid ones")
    func unknown() {
        let error = #expect(throws: TraceStoreError.self) { try ModelPreset.require("gpt-5") }
        #expect(error?.fix.contains("qwen3-30b-a3b") == true)
        #expect(ModelPreset.all.count == 10)
    }

    @Test("Switch-base-128's encoder alone has 6 MoE layers of 12, as the recorder names it")
    func switchEncoder() throws {
        let encoder = try ModelPreset.require("switch-base-128-encoder")
        #expect(encoder.moeLayers == [1, 3, 5, 7, 9, 11] && encoder.totalLayers == 12 && encoder.experts == 128)
        #expect(encoder.expertBytes(.fp32) == 4 * 2 * 768 * 3072)
        #expect(try ModelPreset.require("switch-base-256-encoder").experts == 256)
    }
}
