extension ModelPreset {
    /// Every preset, in the order `moesim models` lists them.
    ///
    /// Numbers are read from each model's `config.json` on Hugging Face (the path is in
    /// `source`); the keys named there are the ones used.
    public static let all: [ModelPreset] = [
        ModelPreset(
            name: "qwen3-30b-a3b", displayName: "Qwen3-30B-A3B", totalLayers: 48, moeLayers: Array(0..<48),
            experts: 128, topK: 8, sharedExperts: 0, hiddenSize: 2048, expertIntermediateSize: 768, matricesPerExpert: 3,
            source: "huggingface.co/Qwen/Qwen3-30B-A3B config.json: num_hidden_layers 48, num_experts 128, num_experts_per_tok 8, hidden_size 2048, moe_intermediate_size 768").withAttention(
            parameters: 18874368, kvBytesPerToken: 2048, queryWidth: 4096,
            source: "num_attention_heads 32, num_key_value_heads 4, head_dim 128: q 2048×4096 + k,v 2×2048×512 + o 4096×2048; KV 2×4×128 bf16")
            .withResident(vocab: 151936, tied: false, source: "vocab_size 151936, tie_word_embeddings false; every layer MoE"),
        ModelPreset(
            name: "mixtral-8x7b", displayName: "Mixtral-8x7B", totalLayers: 32, moeLayers: Array(0..<32),
            experts: 8, topK: 2, sharedExperts: 0, hiddenSize: 4096, expertIntermediateSize: 14336, matricesPerExpert: 3,
            source: "huggingface.co/mistralai/Mixtral-8x7B-v0.1 config.json: num_hidden_layers 32, num_local_experts 8, num_experts_per_tok 2, hidden_size 4096, intermediate_size 14336").withAttention(
            parameters: 41943040, kvBytesPerToken: 4096, queryWidth: 4096,
            source: "num_attention_heads 32, num_key_value_heads 8, head_dim 128: q 4096×4096 + k,v 2×4096×1024 + o 4096×4096; KV 2×8×128 bf16")
            .withResident(vocab: 32000, tied: false, source: "vocab_size 32000, tie_word_embeddings false; every layer MoE"),
        ModelPreset(
            name: "deepseek-v2-lite", displayName: "DeepSeek-V2-Lite", totalLayers: 27, moeLayers: Array(1..<27),
            experts: 64, topK: 6, sharedExperts: 2, hiddenSize: 2048, expertIntermediateSize: 1408, matricesPerExpert: 3,
            source: "huggingface.co/deepseek-ai/DeepSeek-V2-Lite config.json: num_hidden_layers 27, first_k_dense_replace 1, n_routed_experts 64, num_experts_per_tok 6, n_shared_experts 2, hidden_size 2048, moe_intermediate_size 1408").withAttention(
            parameters: 13762560, kvBytesPerToken: 1152, queryWidth: 3072,
            source: "MLA: num_attention_heads 16, q_lora_rank null, qk_nope_head_dim 128, qk_rope_head_dim 64, kv_lora_rank 512, v_head_dim 128: q 2048×16·192 + kv_a 2048×(512+64) + kv_b 512×16·256 + o 16·128×2048; KV cache (512+64) bf16")
            .withResident(vocab: 102400, tied: false, denseIntermediate: 10944,
                          source: "vocab_size 102400, tie_word_embeddings false; layer 0 dense (first_k_dense_replace 1) with intermediate_size 10944"),
        ModelPreset(
            name: "gpt-oss-20b", displayName: "GPT-OSS-20B", totalLayers: 24, moeLayers: Array(0..<24),
            experts: 32, topK: 4, sharedExperts: 0, hiddenSize: 2880, expertIntermediateSize: 2880, matricesPerExpert: 3,
            source: "huggingface.co/openai/gpt-oss-20b config.json: num_hidden_layers 24, num_local_experts 32, num_experts_per_tok 4, hidden_size 2880, intermediate_size 2880 (gate_up_proj is fused: 2 × 2880)").withAttention(
            parameters: 26542080, kvBytesPerToken: 2048, queryWidth: 4096,
            source: "num_attention_heads 64, num_key_value_heads 8, head_dim 64: q 2880×4096 + k,v 2×2880×512 + o 4096×2880; KV 2×8×64 bf16")
            .withResident(vocab: 201088, tied: false, source: "vocab_size 201088, tie_word_embeddings false; every layer MoE"),
        ModelPreset(
            name: "gpt-oss-120b", displayName: "GPT-OSS-120B", totalLayers: 36, moeLayers: Array(0..<36),
            experts: 128, topK: 4, sharedExperts: 0, hiddenSize: 2880, expertIntermediateSize: 2880, matricesPerExpert: 3,
            source: "huggingface.co/openai/gpt-oss-120b config.json: num_hidden_layers 36, num_local_experts 128, num_experts_per_tok 4, hidden_size 2880, intermediate_size 2880").withAttention(
            parameters: 26542080, kvBytesPerToken: 2048, queryWidth: 4096,
            source: "num_attention_heads 64, num_key_value_heads 8, head_dim 64: q 2880×4096 + k,v 2×2880×512 + o 4096×2880; KV 2×8×64 bf16")
            .withResident(vocab: 201088, tied: false, source: "vocab_size 201088, tie_word_embeddings false; every layer MoE"),
        ModelPreset(
            name: "olmoe-1b-7b", displayName: "OLMoE-1B-7B", totalLayers: 16, moeLayers: Array(0..<16),
            experts: 64, topK: 8, sharedExperts: 0, hiddenSize: 2048, expertIntermediateSize: 1024, matricesPerExpert: 3,
            source: "huggingface.co/allenai/OLMoE-1B-7B-0924 config.json: num_hidden_layers 16, num_experts 64, num_experts_per_tok 8, hidden_size 2048, intermediate_size 1024").withAttention(
            parameters: 16777216, kvBytesPerToken: 8192, queryWidth: 2048,
            source: "num_attention_heads 16, num_key_value_heads 16, head 128: 4 × 2048×2048; KV 2×2048 bf16")
            .withResident(vocab: 50304, tied: false, source: "vocab_size 50304, tie_word_embeddings false; every layer MoE"),
        ModelPreset(
            name: "llama-4-maverick", displayName: "Llama-4-Maverick-17B-128E", totalLayers: 48,
            moeLayers: Array(stride(from: 1, to: 48, by: 2)),
            experts: 128, topK: 1, sharedExperts: 1, hiddenSize: 5120, expertIntermediateSize: 8192, matricesPerExpert: 3,
            source: "huggingface.co/meta-llama/Llama-4-Maverick-17B-128E-Instruct config.json (text_config): num_hidden_layers 48, interleave_moe_layer_step 2, num_local_experts 128, num_experts_per_tok 1, hidden_size 5120, intermediate_size 8192").withAttention(
            parameters: 62914560, kvBytesPerToken: 4096, queryWidth: 5120,
            source: "num_attention_heads 40, num_key_value_heads 8, head_dim 128: q 5120×5120 + k,v 2×5120×1024 + o 5120×5120; KV 2×8×128 bf16")
            .withResident(vocab: 202048, tied: false, denseIntermediate: 16384,
                          source: "text_config vocab_size 202048, tie_word_embeddings false; even layers dense with intermediate_size_mlp 16384"),
        ModelPreset(
            name: "switch-base-128", displayName: "Switch-base-128", totalLayers: 24,
            moeLayers: [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23],
            experts: 128, topK: 1, sharedExperts: 0, hiddenSize: 768, expertIntermediateSize: 3072, matricesPerExpert: 2,
            source: "huggingface.co/google/switch-base-128 config.json: num_layers 12 + num_decoder_layers 12, encoder_sparse_step 2, decoder_sparse_step 2, num_experts 128, d_model 768, d_ff 3072 (encoder layers 0-11, decoder 12-23)").withAttention(
            parameters: 2359296, kvBytesPerToken: 3072, queryWidth: 768,
            source: "num_heads 12, d_kv 64: 4 × 768×768 (self-attention; decoder cross-attention ignored); KV 2×768 bf16")
            .withResident(vocab: 32128, tied: true, denseIntermediate: 3072,
                          source: "vocab_size 32128 with tie_word_embeddings true (SwitchTransformersConfig defaults); the dense layers (even ones) with d_ff 3072; decoder cross-attention not counted"),
    ] + [128, 256].map(switchEncoder)

    /// The encoder stack alone of Switch-base-`experts`, as encoder-only classification runs
    /// it (arXiv 2605.11537's artifact, `SwitchTransformersEncoderModel`) and as moesim's
    /// recorder names it (`traces/record`: `<model>-encoder`).
    private static func switchEncoder(experts: Int) -> ModelPreset {
        ModelPreset(
            name: "switch-base-\(experts)-encoder", displayName: "Switch-base-\(experts) encoder", totalLayers: 12,
            moeLayers: [1, 3, 5, 7, 9, 11],
            experts: experts, topK: 1, sharedExperts: 0, hiddenSize: 768, expertIntermediateSize: 3072, matricesPerExpert: 2,
            source: "huggingface.co/google/switch-base-\(experts) config.json: num_layers 12, encoder_sparse_step 2 (transformers SwitchTransformersStack: layer i is sparse when i % 2 == 1), num_experts \(experts), d_model 768, d_ff 3072; the encoder only").withAttention(
            parameters: 2359296, kvBytesPerToken: 3072, queryWidth: 768,
            source: "num_heads 12, d_kv 64: 4 × 768×768 self-attention; no KV cache is kept by an encoder (the figure is the decoder's, unused without decode steps)")
            .withResident(vocab: 32128, tied: true, denseIntermediate: 3072,
                          source: "vocab_size 32128 (the shared embedding); the dense layers (even ones) with d_ff 3072")
    }

    /// The preset named `name` (case-insensitive; "_" and "." read as "-"), or nil.
    public static func named(_ name: String) -> ModelPreset? {
        let key = name.lowercased().replacingOccurrences(of: "_", with: "-").replacingOccurrences(of: ".", with: "-")
        return all.first { $0.name == key || $0.displayName.lowercased() == key }
    }

    /// The preset named `name`, or an error that lists the valid names.
    public static func require(_ name: String, file: String = "--model") throws -> ModelPreset {
        guard let preset = named(name) else {
            throw TraceStoreError(
                file: file, problem: "unknown model '\(name)'",
                fix: "Valid models: \(all.map(\.name).joined(separator: ", ")).")
        }
        return preset
    }
}
