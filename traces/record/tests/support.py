"""What the recorder tests share: the moesim binary, an independent reading of the routing
rules, and a decoder of recorded predictions."""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import subprocess

import numpy as np
import torch
import zstandard

REPOSITORY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def moesim() -> str:
    """The built moesim binary ($MOESIM, else .build/debug or .build/release)."""
    candidates = [os.environ.get("MOESIM", "")] + [os.path.join(REPOSITORY, ".build", c, "moesim") for c in ("debug", "release")]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise AssertionError("no moesim binary: run `swift build` in the repository first (or set MOESIM)")


def run_moesim(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([moesim(), *arguments], capture_output=True, text=True)


def exported_rows(trace: str, folder: str) -> dict[tuple[str, int, int], dict[int, float]]:
    """The trace as moesim's Swift reader exports it: (sequence, token, layer) → {expert: weight}."""
    out = os.path.join(folder, "export.jsonl")
    result = run_moesim("trace", "export", trace, "--format", "jsonl", "-o", out)
    assert result.returncode == 0, result.stderr
    rows: dict[tuple[str, int, int], dict[int, float]] = {}
    with open(out) as handle:
        for line in handle:
            row = json.loads(line)
            rows.setdefault((row["sequence"], row["token"], row["layer"]), {})[row["expert"]] = row.get("weight")
    return rows


def expected_routing(family: str, config, logits: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(ids [N, k], weights [N, k]) that ``family``'s routing rule gives for router ``logits``
    [N, E], written out from each model's paper and reference implementation, so that it does
    not share code with the router modules the recorder hooks."""
    k = config.num_experts_per_tok
    logits = logits.float()
    if family == "gpt_oss":  # top-k on logits, softmax over the chosen (OpenAI gpt-oss model card)
        values, ids = torch.topk(logits, k, dim=-1)
        return ids.numpy(), torch.softmax(values, dim=-1).numpy()
    probs = torch.softmax(logits, dim=-1)
    if family == "deepseek_v2" and config.topk_method == "group_limited_greedy":
        # DeepSeek-V2 (arXiv 2405.04434): keep the topk_group groups with the best expert, then top-k within them.
        groups = probs.view(len(probs), config.n_group, -1)
        best = torch.topk(groups.max(dim=-1).values, config.topk_group, dim=-1).indices
        mask = torch.zeros_like(groups.max(dim=-1).values).scatter_(1, best, 1).bool()
        probs = probs.masked_fill(~mask.repeat_interleave(groups.shape[-1], dim=1), 0.0)
    values, ids = torch.topk(probs, k, dim=-1)
    if family == "mixtral" or getattr(config, "norm_topk_prob", False):
        values = values / values.sum(dim=-1, keepdim=True)
    if family == "deepseek_v2":
        values = values * config.routed_scaling_factor
    return ids.numpy(), values.numpy()


def recorded_predictions(trace: str) -> dict[int, np.ndarray]:
    """Per lookahead d, the predicted sets of every token as [tokens, layers, width] in trace
    order (rows of target layers below d are -1), decoded from the MSP1 payloads."""
    db = sqlite3.connect(trace)
    meta = dict(db.execute("SELECT key, value FROM meta"))
    layers, experts = int(meta["layers"]), int(meta["experts"])
    out: dict[int, list[np.ndarray]] = {}
    for d, width, blob in db.execute("SELECT lookahead, width, data FROM predictions ORDER BY chunk, lookahead"):
        payload = zstandard.ZstdDecompressor().decompress(blob)
        assert payload[:4] == b"MSP1"
        flags, lookahead, payload_layers, payload_width, tokens = struct.unpack_from("<BHHHI", payload, 4)
        assert (lookahead, payload_layers, payload_width) == (d, layers, width)
        count = (layers - d) * tokens * width
        values = np.frombuffer(payload, dtype=np.uint8, offset=15, count=count).astype(np.int64)
        if flags & 2:
            values |= np.frombuffer(payload, dtype=np.uint8, offset=15 + count, count=count).astype(np.int64) << 8
        sets = np.cumsum(values.reshape(layers - d, tokens, width) + np.array([0] + [1] * (width - 1)), axis=-1)
        full = -np.ones((tokens, layers, width), dtype=np.int64)
        full[:, d:] = sets.transpose(1, 0, 2)
        out.setdefault(d, []).append(full)
    assert experts > 0
    return {d: np.concatenate(chunks) for d, chunks in out.items()}
