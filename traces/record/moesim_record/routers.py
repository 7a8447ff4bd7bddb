"""The MoE routers of a Hugging Face transformers model, found and tapped by forward hooks.

transformers 5 gives every decoder-only MoE family it ships (Mixtral, Qwen2-MoE, Qwen3-MoE,
OLMoE, DeepSeek-V2/V3, GPT-OSS, and others built the same way) one router module per MoE
layer whose forward takes the layer's post-attention hidden state and returns
``(router_logits, top_k_weights, top_k_indices)``: the weights and ids the layer then uses
to mix its experts, after the family's own rule (softmax then top-k and renormalising for
Mixtral, top-k on logits then softmax for GPT-OSS, group-limited greedy selection and a
scaling factor for DeepSeek-V2, ...). Hooking that module records exactly what the model
computed. The same module applied to another layer's hidden state is the cross-layer
prediction that moesim's cross-layer-gate and default-vector-speculation policies replay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

ROUTER_CLASS = re.compile(r"Top\w*Router$", re.IGNORECASE)

SUPPORTED = ("Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE, DeepSeek-V2/V3, GPT-OSS and other decoder-only "
             "transformers 5 MoE models whose routers return (logits, top-k weights, top-k ids)")


class UnsupportedModel(ValueError):
    """The model has no router this recorder can tap; the message says why and what is supported."""


@dataclass
class MoELayer:
    """One MoE layer: the model's layer number, its router and the block that holds its experts."""

    model_layer: int
    name: str
    router: torch.nn.Module
    block: torch.nn.Module


def decoder_layers(model: torch.nn.Module) -> torch.nn.ModuleList:
    """The decoder's layer list (``model.model.layers`` in every supported family)."""
    inner = getattr(model, "model", model)
    layers = getattr(inner, "layers", None)
    if not isinstance(layers, torch.nn.ModuleList):
        raise UnsupportedModel(f"{type(model).__name__} has no decoder layer list (model.layers); supported: {SUPPORTED}")
    return layers


def is_switch_encoder(model: torch.nn.Module) -> bool:
    """Whether ``model`` is a Switch Transformers encoder (``SwitchTransformersEncoderModel``),
    which ``record_encoder`` records."""
    return getattr(model.config, "model_type", "") == "switch_transformers" and hasattr(model, "encoder") \
        and not hasattr(model, "decoder")


def moe_layers(model: torch.nn.Module) -> list[MoELayer]:
    """The MoE layers in model order; dense layers (DeepSeek's first layers, Qwen's
    ``mlp_only_layers``) have no router and are skipped."""
    if is_switch_encoder(model):
        return switch_encoder_layers(model)
    if getattr(model.config, "is_encoder_decoder", False):
        raise UnsupportedModel(f"{type(model).__name__} is an encoder-decoder model (Switch Transformers, NLLB-MoE): "
                               f"its two stacks are not recorded together (Switch Transformers' encoder alone is, as "
                               f"SwitchTransformersEncoderModel); supported: {SUPPORTED}")
    found = []
    for index, layer in enumerate(decoder_layers(model)):
        routers = [(name, module) for name, module in layer.named_modules() if ROUTER_CLASS.search(type(module).__name__)]
        if len(routers) > 1:
            raise UnsupportedModel(f"layer {index} of {type(model).__name__} has {len(routers)} routers")
        if routers:
            name, router = routers[0]
            parent = layer.get_submodule(name.rpartition(".")[0]) if "." in name else layer
            found.append(MoELayer(index, name, router, parent))
    if not found:
        raise UnsupportedModel(f"{type(model).__name__} has no module named *TopKRouter in its layers; supported: {SUPPORTED}")
    return found


def split_router_output(output) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(logits [N, E], weights [N, k], ids [N, k])`` from a router's forward output."""
    if not (isinstance(output, tuple) and len(output) == 3 and not torch.is_floating_point(output[2])):
        raise UnsupportedModel(f"a router returned {type(output).__name__} instead of (logits, weights, ids); supported: {SUPPORTED}")
    logits, weights, ids = output
    k = ids.shape[-1]
    return logits.reshape(-1, logits.shape[-1]), weights.reshape(-1, k), ids.reshape(-1, k)


def experts_of(layer: MoELayer) -> tuple[int, int, str]:
    """(routed experts, bytes of one routed expert, dtype name) from the block's ``experts`` module."""
    experts = getattr(layer.block, "experts", None)
    if experts is None:
        raise UnsupportedModel(f"layer {layer.model_layer}: no 'experts' module beside the router; supported: {SUPPORTED}")
    parameters = list(experts.parameters())
    count = experts_count(layer)
    total = sum(p.numel() * p.element_size() for p in parameters)
    dtype = str(parameters[0].dtype).removeprefix("torch.")
    return count, total // count, {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}.get(dtype, dtype)


def experts_count(layer: MoELayer) -> int:
    """Routed experts of the layer: the rows of its router's weight."""
    weight = getattr(layer.router, "weight", None)
    if weight is None:
        weight = next(p for p in layer.router.parameters() if p.dim() == 2)
    return int(weight.shape[0])


def shared_expert_bytes(layer: MoELayer) -> int:
    """Bytes of the always-active shared experts beside the router (DeepSeek's
    ``shared_experts``, Qwen2-MoE's ``shared_expert``), 0 when there are none."""
    total = 0
    for name in ("shared_experts", "shared_expert"):
        module = getattr(layer.block, name, None)
        if module is not None:
            total += sum(p.numel() * p.element_size() for p in module.parameters())
    return total


def switch_encoder_layers(model: torch.nn.Module) -> list[MoELayer]:
    """The sparse blocks of a Switch Transformers encoder (every ``encoder_sparse_step``-th
    block; transformers' ``SwitchTransformersStack``): block *i*'s feed-forward holds a
    ``SwitchTransformersSparseMLP`` with its ``router`` and ``experts``."""
    found = []
    for index, block in enumerate(model.encoder.block):
        feed_forward = block.layer[-1]
        if getattr(feed_forward, "is_sparse", False):
            found.append(MoELayer(index, f"encoder.block.{index}.layer.{len(block.layer) - 1}.mlp.router",
                                  feed_forward.mlp.router, feed_forward.mlp))
    if not found:
        raise UnsupportedModel(f"{type(model).__name__} has no sparse encoder block (encoder_sparse_step gives none)")
    return found


def split_switch_output(output) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(logits [N, E], weights [N, 1], ids [N, 1], kept [N])`` from a Switch Transformers
    top-1 router's ``(dispatch mask [B, S, E], probability [B, S, 1], logits [B, S, E])``.

    The id is the router's choice, the argmax of its probabilities (Fedus et al., arXiv
    2101.03961, §2.1); ``kept`` is false for a token the router dropped because its expert
    had already taken ``expert_capacity`` tokens of the sequence (its dispatch row is zero):
    the layer leaves that token unchanged, so the trace records it as absent there.
    """
    if not (isinstance(output, tuple) and len(output) == 3 and output[0].dim() == 3):
        raise UnsupportedModel(f"a Switch router returned {type(output).__name__} instead of (dispatch mask, probabilities, logits)")
    dispatch, probability, logits = output
    logits = logits.reshape(-1, logits.shape[-1])
    ids = torch.argmax(logits, dim=-1, keepdim=True)
    kept = dispatch.reshape(-1, dispatch.shape[-1]).sum(dim=-1) > 0
    return logits, probability.reshape(-1, 1), ids, kept
