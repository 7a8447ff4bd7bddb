"""Tiny randomly initialised MoE models built from transformers configs (no download): a few
layers, eight experts, top-2, on CPU in float32. Seeded, so every run builds the same weights."""

from __future__ import annotations

import torch
import transformers

COMMON = dict(vocab_size=96, hidden_size=32, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
              eos_token_id=2, bos_token_id=1, pad_token_id=0,
              tie_word_embeddings=False)


def _configs():
    return {
        "mixtral": transformers.MixtralConfig(**COMMON, intermediate_size=48, num_hidden_layers=3, num_local_experts=8,
                                              num_experts_per_tok=2),
        # Layer 1 is dense (mlp_only_layers): the MoE layers are model layers 0, 2, 3.
        "qwen2_moe": transformers.Qwen2MoeConfig(**COMMON, intermediate_size=64, moe_intermediate_size=24,
                                                 shared_expert_intermediate_size=48, num_hidden_layers=4, num_experts=8,
                                                 num_experts_per_tok=2, mlp_only_layers=[1]),
        "qwen3_moe": transformers.Qwen3MoeConfig(**COMMON, head_dim=8, intermediate_size=64, moe_intermediate_size=24,
                                                 num_hidden_layers=3, num_experts=8, num_experts_per_tok=2, norm_topk_prob=True),
        "olmoe": transformers.OlmoeConfig(**COMMON, intermediate_size=24, num_hidden_layers=3, num_experts=8,
                                          num_experts_per_tok=2),
        # First layer dense (first_k_dense_replace); group-limited greedy routing over 4 groups.
        "deepseek_v2": transformers.DeepseekV2Config(**{**COMMON, "num_key_value_heads": 4}, intermediate_size=64, moe_intermediate_size=16,
                                                     num_hidden_layers=4, n_routed_experts=8, num_experts_per_tok=2,
                                                     n_shared_experts=2, first_k_dense_replace=1, kv_lora_rank=16,
                                                     q_lora_rank=None, qk_rope_head_dim=4, qk_nope_head_dim=4, v_head_dim=8,
                                                     topk_method="group_limited_greedy", n_group=4, topk_group=2,
                                                     routed_scaling_factor=1.5),
        "gpt_oss": transformers.GptOssConfig(**COMMON, head_dim=8, intermediate_size=24, num_hidden_layers=3,
                                             num_local_experts=8, num_experts_per_tok=2, sliding_window=16,
                                             layer_types=["sliding_attention", "full_attention", "sliding_attention"]),
    }


FAMILIES = sorted(_configs())


def tiny_model(family: str, seed: int = 0) -> torch.nn.Module:
    """The tiny model of ``family`` with weights drawn from ``seed`` (float32, eval mode)."""
    config = _configs()[family]
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    # Random routers at init give near-uniform logits; scale them up so routing has clear
    # winners, as trained routers do, and small float differences cannot reorder the top-k.
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "router" in name or name.endswith("gate.weight"):
                parameter.normal_(0, 0.25)
    return model.eval()
