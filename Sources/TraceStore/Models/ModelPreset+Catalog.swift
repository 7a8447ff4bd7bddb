extension ModelPreset {
    /// Every preset, in the order `moesim models` lists them.
    ///
    /// Numbers are read from each model's `config.json` on Hugging Face (the path is in
    /// `source`); the keys named there are the ones used.
    public static let all: [ModelPreset] = [
        ModelPreset(
            name: "qwen3-30b-a3b", displayName: "Qwen3-30B-A3B", totalLayers: 48, moeLayers: Array(0..<48),
            experts: 128, topK: 8, sharedExperts: 0, hiddenSize: 2048, expertIntermediateSize: 768, matricesPerExpert: 3,
            source: "huggingface.co/Qwen/Qwen3-30B-A3B config.json: num_hidden_layers 48, num_experts 128, num_experts_per_tok 8, hidden_size 2048, moe_intermediate_size 768"),
        ModelPreset(
            name: "mixtral-8x7b", displayName: "Mixtral-8x7B", totalLayers: 32, moeLayers: Array(0..<32),
            experts: 8, topK: 2, sharedExperts: 0, hiddenSize: 4096, expertIntermediateSize: 14336, matricesPerExpert: 3,
            source: "huggingface.co/mistralai/Mixtral-8x7B-v0.1 config.json: num_hidden_layers 32, num_local_experts 8, num_experts_per_tok 2, hidden_size 4096, intermediate_size 14336"),
        ModelPreset(
            name: "deepseek-v2-lite", displayName: "DeepSeek-V2-Lite", totalLayers: 27, moeLayers: Array(1..<27),
            experts: 64, topK: 6, sharedExperts: 2, hiddenSize: 2048, expertIntermediateSize: 1408, matricesPerExpert: 3,
            source: "huggingface.co/deepseek-ai/DeepSeek-V2-Lite config.json: num_hidden_layers 27, first_k_dense_replace 1, n_routed_experts 64, num_experts_per_tok 6, n_shared_experts 2, hidden_size 2048, moe_intermediate_size 1408"),
        ModelPreset(
            name: "gpt-oss-20b", displayName: "GPT-OSS-20B", totalLayers: 24, moeLayers: Array(0..<24),
            experts: 32, topK: 4, sharedExperts: 0, hiddenSize: 2880, expertIntermediateSize: 2880, matricesPerExpert: 3,
            source: "huggingface.co/openai/gpt-oss-20b config.json: num_hidden_layers 24, num_local_experts 32, num_experts_per_tok 4, hidden_size 2880, intermediate_size 2880 (gate_up_proj is fused: 2 × 2880)"),
        ModelPreset(
            name: "gpt-oss-120b", displayName: "GPT-OSS-120B", totalLayers: 36, moeLayers: Array(0..<36),
            experts: 128, topK: 4, sharedExperts: 0, hiddenSize: 2880, expertIntermediateSize: 2880, matricesPerExpert: 3,
            source: "huggingface.co/openai/gpt-oss-120b config.json: num_hidden_layers 36, num_local_experts 128, num_experts_per_tok 4, hidden_size 2880, intermediate_size 2880"),
        ModelPreset(
            name: "olmoe-1b-7b", displayName: "OLMoE-1B-7B", totalLayers: 16, moeLayers: Array(0..<16),
            experts: 64, topK: 8, sharedExperts: 0, hiddenSize: 2048, expertIntermediateSize: 1024, matricesPerExpert: 3,
            source: "huggingface.co/allenai/OLMoE-1B-7B-0924 config.json: num_hidden_layers 16, num_experts 64, num_experts_per_tok 8, hidden_size 2048, intermediate_size 1024"),
        ModelPreset(
            name: "llama-4-maverick", displayName: "Llama-4-Maverick-17B-128E", totalLayers: 48,
            moeLayers: Array(stride(from: 1, to: 48, by: 2)),
            experts: 128, topK: 1, sharedExperts: 1, hiddenSize: 5120, expertIntermediateSize: 8192, matricesPerExpert: 3,
            source: "huggingface.co/meta-llama/Llama-4-Maverick-17B-128E-Instruct config.json (text_config): num_hidden_layers 48, interleave_moe_layer_step 2, num_local_experts 128, num_experts_per_tok 1, hidden_size 5120, intermediate_size 8192"),
        ModelPreset(
            name: "switch-base-128", displayName: "Switch-base-128", totalLayers: 24,
            moeLayers: [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23],
            experts: 128, topK: 1, sharedExperts: 0, hiddenSize: 768, expertIntermediateSize: 3072, matricesPerExpert: 2,
            source: "huggingface.co/google/switch-base-128 config.json: num_layers 12 + num_decoder_layers 12, encoder_sparse_step 2, decoder_sparse_step 2, num_experts 128, d_model 768, d_ff 3072 (encoder layers 0-11, decoder 12-23)"),
    ]

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
