"""Records router traces from a transformers MoE model: prefill of each prompt, then greedy
decoding, with every MoE layer's top-k ids and gate weights and the cross-layer
predictions, written in moesim's trace format (traces/FORMAT.md)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import __version__
from .prompts import Prompt
from .routers import (MoELayer, decoder_layers, experts_of, is_switch_encoder, moe_layers, shared_expert_bytes,
                      split_router_output, split_switch_output)
from .traceformat import TraceShape, TraceWriter

# moesim's model presets (`moesim models`) with their (MoE layers, experts, top-k): a
# recording whose shape matches one is named after it, so the simulator uses its
# attention and KV-cache figures.
PRESETS = {
    "qwen3-30b-a3b": (48, 128, 8),
    "mixtral-8x7b": (32, 8, 2),
    "deepseek-v2-lite": (26, 64, 6),
    "gpt-oss-20b": (24, 32, 4),
    "gpt-oss-120b": (36, 128, 4),
    "olmoe-1b-7b": (16, 64, 8),
}


class RouterTap:
    """Forward hooks on every router of a model. After each forward, ``take()`` gives per
    MoE layer the ids and weights of the tokens it saw and, per lookahead d, the experts
    router m chose for the hidden state that entered router m - d.

    Predictions of width other than the model's top-k are the top-``width`` of router m's
    logits (which, for DeepSeek's group-limited routing, ignores the group limit).
    """

    def __init__(self, layers: list[MoELayer], lookaheads: list[int], width: int, split=None) -> None:
        self.layers = layers
        self.lookaheads = lookaheads
        self.width = width
        # (logits, weights, ids, kept or None) from a router's output.
        self.split = split or (lambda output: (*split_router_output(output), None))
        self.predicting = False
        self._reset()
        self.handles = [layer.router.register_forward_hook(self._hook(i)) for i, layer in enumerate(layers)]

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()

    def _reset(self) -> None:
        self.ids: list[torch.Tensor | None] = [None] * len(self.layers)
        self.weights: list[torch.Tensor | None] = [None] * len(self.layers)
        self.kept: list[torch.Tensor | None] = [None] * len(self.layers)
        self.predictions = {d: [None] * len(self.layers) for d in self.lookaheads}

    def _predict(self, target: int, hidden: torch.Tensor) -> torch.Tensor:
        logits, _, ids, _ = self.split(self.layers[target].router(hidden))
        return ids if self.width == ids.shape[-1] else torch.topk(logits.float(), self.width, dim=-1).indices

    def _hook(self, index: int):
        def hook(module, args, output):
            if self.predicting:
                return
            _, weights, ids, kept = self.split(output)
            self.ids[index] = ids
            self.weights[index] = weights
            self.kept[index] = kept
            hidden = args[0]
            self.predicting = True
            try:
                for d in self.lookaheads:
                    if index + d < len(self.layers):
                        self.predictions[d][index + d] = self._predict(index + d, hidden)
            finally:
                self.predicting = False
        return hook

    def take(self, tokens: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]:
        """(ids [tokens, layers, k], weights [tokens, layers, k], per lookahead predictions
        [tokens, layers, width] with zero rows below the lookahead, absent [tokens, layers])
        of the last forward."""
        if any(ids is None for ids in self.ids):
            missing = [layer.model_layer for layer, ids in zip(self.layers, self.ids) if ids is None]
            raise RuntimeError(f"the routers of model layers {missing} did not run in this forward pass")
        # One device-to-host copy per kind, not one per layer: each copy waits for the GPU.
        ids = torch.stack(self.ids, dim=1).cpu().numpy()
        weights = torch.stack([w.float() for w in self.weights], dim=1).cpu().numpy()
        absent = np.zeros((tokens, len(self.layers)), dtype=bool)
        if any(kept is not None for kept in self.kept):
            absent = ~torch.stack(self.kept, dim=1).cpu().numpy()
        if ids.shape[0] != tokens:
            raise RuntimeError(f"the routers saw {ids.shape[0]} tokens where {tokens} were fed")
        predictions = []
        for d in self.lookaheads:
            sets = np.zeros((tokens, len(self.layers), self.width), dtype=np.int64)
            if d < len(self.layers):
                sets[:, d:] = torch.stack(self.predictions[d][d:], dim=1).cpu().numpy()
            predictions.append(sets)
        self._reset()
        return ids, weights, predictions, absent


@dataclass
class Recording:
    """What one recording did: per sequence its prompt and the generated tokens fed back
    (the decode tokens of the trace), the time spent and the file written."""

    path: str
    sequences: list[tuple[str, list[int], list[int]]] = field(default_factory=list)
    seconds: float = 0.0
    meta: dict[str, str] = field(default_factory=dict)


def trace_shape(model: torch.nn.Module, layers: list[MoELayer], model_name: str | None) -> TraceShape:
    """The trace's shape from the model: experts and top-k from the routers, expert and dense
    bytes per MoE layer from the parameters as loaded, shared experts in routed-expert sizes."""
    config = model.config
    counts, expert_bytes, dense_bytes, shared = [], [], [], []
    dtype = None
    decoder = model.encoder.block if is_switch_encoder(model) else decoder_layers(model)
    for layer in layers:
        count, per_expert, dtype = experts_of(layer)
        counts.append(count)
        expert_bytes.append(per_expert)
        layer_bytes = sum(p.numel() * p.element_size() for p in decoder[layer.model_layer].parameters())
        shared_bytes = shared_expert_bytes(layer)
        dense_bytes.append(layer_bytes - per_expert * count - shared_bytes)
        shared.append(round(shared_bytes / per_expert))
    if len(set(counts)) != 1 or len(set(shared)) != 1:
        raise ValueError(f"MoE layers differ in expert count {sorted(set(counts))} or shared experts {sorted(set(shared))}; "
                         "the trace format needs one shape for all layers")
    top_k = 1 if is_switch_encoder(model) else int(getattr(layers[0].router, "top_k", 0) or config.num_experts_per_tok)
    name = model_name or (encoder_name(config) if is_switch_encoder(model) else preset_name(config, len(layers), counts[0], top_k))
    intermediate = getattr(config, "moe_intermediate_size", None) or getattr(config, "intermediate_size", None) \
        or getattr(config, "d_ff", None)
    return TraceShape(model=name, layers=len(layers), experts=counts[0], top_k=top_k,
                      model_layers=[layer.model_layer for layer in layers], shared_experts=shared[0],
                      hidden_size=int(config.hidden_size), expert_intermediate_size=int(intermediate) if intermediate else None,
                      expert_dtype=dtype, expert_bytes=expert_bytes, dense_bytes=dense_bytes)


def preset_name(config, layers: int, experts: int, top_k: int) -> str:
    """The moesim preset whose name starts the model id and whose shape matches, else the id's last part."""
    label = (getattr(config, "_name_or_path", "") or config.model_type).rstrip("/").split("/")[-1].lower()
    for name, shape in PRESETS.items():
        if label.startswith(name) and shape == (layers, experts, top_k):
            return name
    return label or config.model_type


def encoder_name(config) -> str:
    """``<model id's last part>-encoder``: the encoder's MoE layers are a different shape
    from the whole model's (moesim's ``switch-base-128`` preset counts both stacks)."""
    label = (getattr(config, "_name_or_path", "") or "").rstrip("/").split("/")[-1].lower()
    return f"{label or config.model_type}-encoder"


def record(model: torch.nn.Module, prompts: list[Prompt], output: str, *, decode_tokens: int, lookaheads: list[int],
           prediction_width: int | None = None, eos_token_ids: set[int] | None = None, model_name: str | None = None,
           source: str = "", license: str = "unknown", notes: str = "", progress=None) -> Recording:
    """Runs each prompt through ``model`` (prefill, then greedy decoding of up to
    ``decode_tokens`` tokens, stopping after an end-of-sequence token) and writes the trace
    to ``output``. Nothing appears at ``output`` unless the whole recording succeeds."""
    layers = moe_layers(model)
    shape = trace_shape(model, layers, model_name)  # refuses layers of differing expert counts
    width = prediction_width or shape.top_k
    tap = RouterTap(layers, sorted(set(lookaheads)), width)
    device = next(model.parameters()).device
    vocab = model.get_input_embeddings().num_embeddings
    created_by = _created_by()
    predicted = ("; predictions at lookahead d: the gate (router) of MoE layer m applied to the hidden state that "
                 "entered MoE layer m - d's router" + ("" if width == shape.top_k else f", top-{width} of its logits")) \
        if lookaheads else ""
    all_notes = " ".join(filter(None, [notes, f"greedy decoding of up to {decode_tokens} tokens per prompt"
                                       + (", stopping after an end-of-sequence token" if eos_token_ids else "") + predicted + "."]))
    recording = Recording(output)
    started = time.perf_counter()
    model.eval()
    try:
        with TraceWriter(output, shape, has_weights=True, lookaheads=tap.lookaheads, prediction_width=width, source=source,
                         license=license, notes=all_notes, importer="moesim_record",
                         created_by=created_by) as writer, torch.inference_mode():
            for number, prompt in enumerate(prompts):
                _check_prompt(prompt, vocab)
                writer.begin_sequence(prompt.name)
                fed = torch.tensor([prompt.token_ids], device=device)
                out = model(input_ids=fed, use_cache=True)
                _append(writer, tap, 0, len(prompt.token_ids))
                generated = []
                for _ in range(decode_tokens):
                    token = int(out.logits[0, -1].argmax())
                    if eos_token_ids and token in eos_token_ids:
                        break
                    generated.append(token)
                    out = model(input_ids=torch.tensor([[token]], device=device), past_key_values=out.past_key_values, use_cache=True)
                    _append(writer, tap, 1, 1)
                recording.sequences.append((prompt.name, list(prompt.token_ids), generated))
                if progress:
                    progress(number + 1, len(prompts), sum(len(p) + len(g) for _, p, g in recording.sequences),
                             time.perf_counter() - started)
            recording.meta = writer.finish()
    finally:
        tap.close()
    recording.seconds = time.perf_counter() - started
    return recording


def _append(writer: TraceWriter, tap: RouterTap, phase: int, tokens: int) -> None:
    ids, weights, predictions, _ = tap.take(tokens)  # decoder routers drop nothing: no absent layers
    for t in range(tokens):
        writer.append_token(phase, ids[t], weights[t], [p[t] for p in predictions])


def _check_prompt(prompt: Prompt, vocab: int) -> None:
    """Refuses an empty prompt or one with token ids outside the model's vocabulary, naming where it came from."""
    bad = [t for t in prompt.token_ids if not 0 <= t < vocab]
    if not prompt.token_ids or bad:
        raise ValueError(f"{prompt.origin}: {'is empty' if not prompt.token_ids else f'token ids {bad[:5]} outside the vocabulary 0..{vocab - 1}'}")


def _created_by() -> str:
    return f"moesim_record {__version__} with transformers {_version('transformers')}, torch {torch.__version__}"


def _version(package: str) -> str:
    from importlib.metadata import version
    return version(package)


def record_encoder(model: torch.nn.Module, prompts: list[Prompt], output: str, *, pad_to: int | None = None,
                   pad_token_id: int = 0, lookaheads: list[int], model_name: str | None = None, source: str = "",
                   license: str = "unknown", notes: str = "", progress=None) -> Recording:
    """Runs each prompt once through a Switch Transformers encoder (``SwitchTransformersEncoderModel``)
    and writes the routing of its sparse blocks to ``output``: every token is a prefill token,
    with its top-1 expert and the router's probability for it; a token the router dropped at a
    layer (its expert had taken ``expert_capacity`` tokens of the sequence) is absent there,
    and a token dropped at every layer is left out, which the notes count.

    ``pad_to`` pads each prompt with ``pad_token_id`` up to that many tokens (cutting longer ones, as the
    tokenizer call there truncates), and the encoder
    sees no attention mask, as moe-mpmc's latency script does (github.com/vvkkvv23812025/moe-mpmc,
    ``src/dataset/get_cls_loader.py``: ``padding="max_length"``, the T5 tokenizer's 512; ``src/latency.py``
    passes only ``input_ids``), so the padding is routed like any token.
    Nothing appears at ``output`` unless the whole recording succeeds."""
    if not is_switch_encoder(model):
        raise ValueError(f"{type(model).__name__} is not a Switch Transformers encoder; record() takes decoder-only models")
    layers = moe_layers(model)
    shape = trace_shape(model, layers, model_name)
    tap = RouterTap(layers, sorted(set(lookaheads)), 1, split=split_switch_output)
    device = next(model.parameters()).device
    vocab = model.get_input_embeddings().num_embeddings
    capacity = int(model.config.expert_capacity)
    created_by = _created_by()
    recording = Recording(output)
    started = time.perf_counter()
    model.eval()
    dropped = 0
    try:
        with torch.inference_mode():
            staged: list[tuple[str, np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]] = []
            for number, prompt in enumerate(prompts):
                _check_prompt(prompt, vocab)
                tokens = list(prompt.token_ids)
                if pad_to is not None:
                    tokens = tokens[:pad_to] + [pad_token_id] * max(0, pad_to - len(tokens))
                model(input_ids=torch.tensor([tokens], device=device))
                staged.append((prompt.name, *tap.take(len(tokens))))
                recording.sequences.append((prompt.name, tokens, []))
                if progress:
                    progress(number + 1, len(prompts), sum(len(p) for _, p, _ in recording.sequences), time.perf_counter() - started)
        dropped = sum(int(absent.all(axis=1).sum()) for *_, absent in staged)
        absent_pairs = sum(int(absent.sum()) for *_, absent in staged)
        all_notes = " ".join(filter(None, [notes, (
            f"Switch Transformers encoder only (sparse blocks {shape.model_layers}), one forward per prompt"
            + (f", each padded with token {pad_token_id} to {pad_to} tokens and no attention mask (as moe-mpmc's latency script)" if pad_to else "")
            + f"; top-1 routing with expert capacity {capacity} tokens per sequence: {absent_pairs} token-layers dropped "
            f"by the capacity are absent, and {dropped} tokens dropped at every layer are left out."
        )]))
        with TraceWriter(output, shape, has_weights=True, lookaheads=tap.lookaheads, prediction_width=1, source=source,
                         license=license, notes=all_notes, importer="moesim_record", created_by=created_by) as writer:
            for name, ids, weights, predictions, absent in staged:
                writer.begin_sequence(name)
                for t in range(len(ids)):
                    if absent[t].all():
                        continue
                    writer.append_token(0, ids[t], weights[t], [p[t] for p in predictions], absent=absent[t] if absent[t].any() else None)
            recording.meta = writer.finish()
    finally:
        tap.close()
    recording.seconds = time.perf_counter() - started
    return recording
