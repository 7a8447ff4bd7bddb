"""Writer of moesim trace files, format version 1, or 2 when some token-layers are absent (traces/FORMAT.md).

A trace is one SQLite file of zstd-compressed, column-major routing chunks. This module
writes exactly the layout moesim's Swift reader checks: the ``MSR1`` routing payload
(ids ascending and gap-coded when gate weights are stored), the ``MSW1`` fp16 weight
planes and the ``MSP1`` recorded predictions, each a zstd frame with content size and
checksum. The file is built as ``NAME.partial``, flushed and renamed to ``NAME`` only when
complete, so an interrupted recording never leaves a half-written trace under its name.
The same tokens give the same bytes.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from dataclasses import dataclass, field

import numpy as np
import zstandard

FORMAT_VERSION = 1
PAGE_SIZE = 16_384
CHUNK_TOKENS = 4096
ZSTD_LEVEL = 19
FLAG_ASCENDING = 1
FLAG_WIDE_IDS = 2
FLAG_ABSENCE = 4

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE layers (
    layer INTEGER PRIMARY KEY,
    model_layer INTEGER NOT NULL,
    expert_bytes INTEGER,
    dense_bytes INTEGER
);
CREATE TABLE sequences (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    prefill_tokens INTEGER NOT NULL,
    decode_tokens INTEGER NOT NULL,
    first_chunk INTEGER NOT NULL
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,
    first_sequence INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    routing BLOB NOT NULL,
    weights BLOB
);
CREATE TABLE predictions (
    chunk INTEGER NOT NULL,
    lookahead INTEGER NOT NULL,
    width INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (chunk, lookahead)
) WITHOUT ROWID;
"""


class TraceFormatError(ValueError):
    """A token or shape the format cannot hold; the message says which and why."""


@dataclass
class TraceShape:
    """The MoE shape a trace was recorded on (FORMAT.md, ``meta`` and ``layers``).

    ``model_layers`` maps MoE layer i to the model's own layer number; ``expert_bytes`` is
    the size of one routed expert per MoE layer as recorded; ``dense_bytes`` the layer's
    other weights (attention, norms, router), excluding routed and shared experts.
    """

    model: str
    layers: int
    experts: int
    top_k: int
    model_layers: list[int]
    shared_experts: int = 0
    native_top_k: int | None = None
    hidden_size: int | None = None
    expert_intermediate_size: int | None = None
    expert_dtype: str | None = None
    expert_bytes: list[int] | None = None
    dense_bytes: list[int] | None = None

    def validate(self) -> None:
        if self.layers < 1:
            raise TraceFormatError(f"the model has {self.layers} MoE layers; a trace needs at least one")
        if not 1 <= self.experts <= 65_535:
            raise TraceFormatError(f"the model has {self.experts} experts per layer (1 to 65535 supported)")
        if not 1 <= self.top_k <= self.experts:
            raise TraceFormatError(f"top-k {self.top_k} for {self.experts} experts")
        if len(self.model_layers) != self.layers:
            raise TraceFormatError(f"{len(self.model_layers)} model layer numbers for {self.layers} MoE layers")
        if self.expert_bytes is not None and (len(self.expert_bytes) != self.layers or min(self.expert_bytes) <= 0):
            raise TraceFormatError("expert bytes must be positive, one per MoE layer")
        if self.dense_bytes is not None and len(self.dense_bytes) != self.layers:
            raise TraceFormatError("dense bytes must be given one per MoE layer")


@dataclass
class _Sequence:
    name: str
    first_chunk: int
    prefill: int = 0
    decode: int = 0


@dataclass
class _Staged:
    """Token-major staging of the chunk being filled."""

    ids: list[np.ndarray] = field(default_factory=list)  # per token: layers × k, uint16, rank order
    weights: list[np.ndarray] = field(default_factory=list)  # per token: layers × k, float32
    predictions: list[list[np.ndarray]] = field(default_factory=list)  # per lookahead, per token: layers × width
    phases: list[int] = field(default_factory=list)
    runs: list[list[int]] = field(default_factory=list)  # [sequence, first_token, tokens]
    absent: list[np.ndarray] = field(default_factory=list)  # per token: layers, bool


class TraceWriter:
    """Writes one trace file token by token (FORMAT.md, version 1; version 2, with an
    absence plane in the chunks that need one, when a token lacks some layers).

    ``lookaheads`` are the lookaheads d whose predictions every token carries, each as
    ``layers × width`` ids by target layer (rows of target layers below d are ignored).
    Use as a context manager: leaving the block by an exception discards the file.
    """

    def __init__(self, path: str, shape: TraceShape, *, has_weights: bool, lookaheads: list[int] | None = None,
                 prediction_width: int | None = None, source: str = "", license: str = "unknown", notes: str = "",
                 importer: str = "", created_by: str = "", chunk_tokens: int = CHUNK_TOKENS) -> None:
        shape.validate()
        self.path = path
        self.shape = shape
        self.has_weights = has_weights
        self.lookaheads = sorted(set(lookaheads or []))
        if any(d < 0 or d >= shape.layers for d in self.lookaheads):
            raise TraceFormatError(f"lookaheads {self.lookaheads} must lie in 0..{shape.layers - 1} for {shape.layers} MoE layers")
        self.prediction_width = prediction_width if prediction_width is not None else shape.top_k
        if self.lookaheads and not 1 <= self.prediction_width <= shape.experts:
            raise TraceFormatError(f"prediction width {self.prediction_width} must lie in 1..{shape.experts}")
        self.meta_text = {"source": source, "license": license, "notes": notes, "importer": importer, "created_by": created_by}
        self.chunk_tokens = chunk_tokens
        self.wide = shape.experts > 256
        self.temporary = path + ".partial"
        if os.path.exists(self.temporary):
            os.remove(self.temporary)
        self.db = sqlite3.connect(self.temporary, isolation_level=None)
        self.db.executescript(f"PRAGMA page_size = {PAGE_SIZE}; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        self.db.executescript(SCHEMA)
        self.db.execute("BEGIN")
        self.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True, write_content_size=True)
        self.sequences: list[_Sequence] = []
        self.chunks = 0
        self.max_chunk = 0
        self.tokens = [0, 0]  # prefill, decode
        self.absent_decisions = 0
        self.staged = _Staged(predictions=[[] for _ in self.lookaheads])
        self.finished = False

    def __enter__(self) -> "TraceWriter":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None or not self.finished:
            self.discard()

    def begin_sequence(self, name: str) -> int:
        """Opens a sequence named ``name``; later tokens belong to it. Returns its id."""
        self.sequences.append(_Sequence(name, self.chunks))
        return len(self.sequences) - 1

    def append_token(self, phase: int, ids: np.ndarray, weights: np.ndarray | None = None,
                     predictions: list[np.ndarray] | None = None, absent: np.ndarray | None = None) -> None:
        """Appends one token of the open sequence.

        ``ids``: layers × k expert ids in rank order (rank 0 first); ``weights``: the matching
        gate weights (required exactly when the trace has weights); ``predictions``: per
        lookahead (ascending), layers × width predicted ids by target layer. ``phase``: 0
        prefill, 1 decode. ``absent``: per layer, whether the token has no routing there (a
        token a capacity-limited router dropped); such a layer's ids and weights are stored
        as the format's placeholders and readers skip it.
        """
        if not self.sequences:
            raise TraceFormatError("append_token before begin_sequence")
        shape = self.shape
        ids = np.asarray(ids, dtype=np.int64).reshape(shape.layers, shape.top_k)
        absent = np.zeros(shape.layers, dtype=bool) if absent is None else np.asarray(absent, dtype=bool).reshape(shape.layers)
        if absent.all():
            raise TraceFormatError("a token absent from every layer; leave it out instead")
        if absent.any():
            ids = ids.copy()
            ids[absent] = np.arange(shape.top_k)
            if weights is not None:
                weights = np.asarray(weights, dtype=np.float32).reshape(shape.layers, shape.top_k).copy()
                weights[absent] = 0
            self.absent_decisions += int(absent.sum()) * shape.top_k
        if ids.min() < 0 or ids.max() >= shape.experts:
            raise TraceFormatError(f"an expert id outside 0..{shape.experts - 1}")
        if _repeats(ids):
            raise TraceFormatError("an expert repeated within one token's top-k")
        if (weights is not None) != self.has_weights:
            raise TraceFormatError("gate weights must be given for every token or for none")
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float32).reshape(shape.layers, shape.top_k)
            if not np.isfinite(weights).all():
                raise TraceFormatError("a gate weight that is not a finite number")
        predictions = predictions or []
        if len(predictions) != len(self.lookaheads):
            raise TraceFormatError(f"predictions for {len(predictions)} lookaheads where {len(self.lookaheads)} were declared")
        staged_predictions = []
        for d, predicted in zip(self.lookaheads, predictions):
            predicted = np.asarray(predicted, dtype=np.int64).reshape(shape.layers, self.prediction_width)
            body = predicted[d:]
            if body.size and (body.min() < 0 or body.max() >= shape.experts):
                raise TraceFormatError(f"a predicted id outside 0..{shape.experts - 1} at lookahead {d}")
            body = np.sort(body, axis=1)
            if _repeats(body, ascending=True):
                raise TraceFormatError(f"an expert repeated within a predicted set at lookahead {d}")
            staged_predictions.append(body.astype(np.uint16))
        if phase not in (0, 1):
            raise TraceFormatError(f"phase {phase}; 0 (prefill) or 1 (decode)")

        sequence = len(self.sequences) - 1
        row = self.sequences[sequence]
        index = row.prefill + row.decode
        if phase == 0:
            row.prefill += 1
        else:
            row.decode += 1
        self.tokens[phase] += 1
        staged = self.staged
        if weights is not None:
            order = np.argsort(ids, axis=1, kind="stable")
            staged.ids.append(np.take_along_axis(ids, order, axis=1).astype(np.uint16))
            staged.weights.append(np.take_along_axis(weights, order, axis=1))
        else:
            staged.ids.append(ids.astype(np.uint16))
        for i, predicted in enumerate(staged_predictions):
            staged.predictions[i].append(predicted)
        staged.phases.append(phase)
        staged.absent.append(absent)
        if staged.runs and staged.runs[-1][0] == sequence:
            staged.runs[-1][2] += 1
        else:
            staged.runs.append([sequence, index, 1])
        if len(staged.phases) == self.chunk_tokens:
            self._flush()

    def finish(self) -> dict[str, str]:
        """Writes the last chunk, the tables and the metadata, then moves the file under its
        name. Returns the ``meta`` rows written."""
        self._flush()
        if sum(self.tokens) == 0:
            self.discard()
            raise TraceFormatError(f"{self.path}: no tokens were recorded, so there is no trace to write")
        meta = self._meta()
        self.db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", list(meta.items()))
        shape = self.shape
        self.db.executemany(
            "INSERT INTO layers (layer, model_layer, expert_bytes, dense_bytes) VALUES (?, ?, ?, ?)",
            [(layer, shape.model_layers[layer], shape.expert_bytes[layer] if shape.expert_bytes else None,
              shape.dense_bytes[layer] if shape.dense_bytes else None) for layer in range(shape.layers)])
        self.db.executemany(
            "INSERT INTO sequences (id, name, prefill_tokens, decode_tokens, first_chunk) VALUES (?, ?, ?, ?, ?)",
            [(i, s.name, s.prefill, s.decode, s.first_chunk) for i, s in enumerate(self.sequences)])
        self.db.execute("COMMIT")
        self.db.close()
        with open(self.temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(self.temporary, self.path)
        folder = os.open(os.path.dirname(os.path.abspath(self.path)), os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
        self.finished = True
        return meta

    def discard(self) -> None:
        """Abandons the trace: the temporary file is removed, nothing appears under the name."""
        self.finished = True
        try:
            self.db.close()
        except sqlite3.Error:
            pass
        if os.path.exists(self.temporary):
            os.remove(self.temporary)

    def _meta(self) -> dict[str, str]:
        shape = self.shape
        meta = {
            "format": "moesim-trace",
            "format_version": str(FORMAT_VERSION if self.absent_decisions == 0 else 2),
            "model": shape.model,
            "layers": str(shape.layers),
            "experts": str(shape.experts),
            "top_k": str(shape.top_k),
            "shared_experts": str(shape.shared_experts),
            "has_weights": "1" if self.has_weights else "0",
            "synthetic": "0",
            **self.meta_text,
            "tokens": str(sum(self.tokens)),
            "prefill_tokens": str(self.tokens[0]),
            "decode_tokens": str(self.tokens[1]),
            "sequences": str(len(self.sequences)),
            "chunks": str(self.chunks),
            "chunk_tokens": str(self.max_chunk),
        }
        if shape.native_top_k is not None:
            meta["native_top_k"] = str(shape.native_top_k)
        if shape.hidden_size is not None:
            meta["hidden_size"] = str(shape.hidden_size)
        if shape.expert_intermediate_size is not None:
            meta["expert_intermediate_size"] = str(shape.expert_intermediate_size)
        if shape.expert_dtype is not None:
            meta["expert_dtype"] = shape.expert_dtype
        if self.absent_decisions:
            meta["absent_decisions"] = str(self.absent_decisions)
        if self.lookaheads:
            meta["prediction_lookaheads"] = ",".join(str(d) for d in self.lookaheads)
            meta["prediction_width"] = str(self.prediction_width)
        return meta

    def _flush(self) -> None:
        staged = self.staged
        tokens = len(staged.phases)
        if tokens == 0:
            return
        # Layer-major columns: ids of layer 0 for all tokens, then layer 1, ...
        ids = np.stack(staged.ids, axis=1)  # layers × tokens × k
        values = gap_coded(ids) if self.has_weights else ids
        absent = np.stack(staged.absent, axis=1)  # layers × tokens
        flags = (FLAG_ASCENDING if self.has_weights else 0) | (FLAG_WIDE_IDS if self.wide else 0) | (FLAG_ABSENCE if absent.any() else 0)
        header = b"MSR1" + struct.pack("<BHHII", flags, self.shape.layers, self.shape.top_k, tokens, len(staged.runs))
        runs = b"".join(struct.pack("<III", *run) for run in staged.runs)
        routing = header + runs + bytes(staged.phases) + planes(values, self.wide)
        if absent.any():
            # Bit l × T + t, least significant bit first.
            routing += np.packbits(absent.reshape(-1), bitorder="little").tobytes()
        weights = None
        if self.has_weights:
            bits = np.stack(staged.weights, axis=1).astype(np.float16).view(np.uint16).reshape(-1)
            weights = b"MSW1" + struct.pack("<HHI", self.shape.layers, self.shape.top_k, tokens) \
                + (bits >> 8).astype(np.uint8).tobytes() + (bits & 0xFF).astype(np.uint8).tobytes()
        self.db.execute("INSERT INTO chunks (id, first_sequence, tokens, routing, weights) VALUES (?, ?, ?, ?, ?)",
                        (self.chunks, staged.runs[0][0], tokens, self.compressor.compress(routing),
                         self.compressor.compress(weights) if weights is not None else None))
        for d, predicted in zip(self.lookaheads, staged.predictions):
            sets = np.stack(predicted, axis=1)  # (layers - d) × tokens × width, ascending
            payload = b"MSP1" + struct.pack("<BHHHI", FLAG_WIDE_IDS if self.wide else 0, d, self.shape.layers,
                                            self.prediction_width, tokens) + planes(gap_coded(sets), self.wide)
            self.db.execute("INSERT INTO predictions (chunk, lookahead, width, data) VALUES (?, ?, ?, ?)",
                            (self.chunks, d, self.prediction_width, self.compressor.compress(payload)))
        self.chunks += 1
        self.max_chunk = max(self.max_chunk, tokens)
        self.staged = _Staged(predictions=[[] for _ in self.lookaheads])


def _repeats(sets: np.ndarray, ascending: bool = False) -> bool:
    """Whether any row of ``sets`` names an expert twice."""
    ordered = sets if ascending else np.sort(sets, axis=1)
    return bool((np.diff(ordered, axis=1) == 0).any())


def gap_coded(ids: np.ndarray) -> np.ndarray:
    """Ascending sets along the last axis as (first id, id[r] - id[r-1] - 1, ...)."""
    out = ids.astype(np.int64).copy()
    out[..., 1:] = ids[..., 1:].astype(np.int64) - ids[..., :-1].astype(np.int64) - 1
    return out.astype(np.uint16)


def planes(values: np.ndarray, wide: bool) -> bytes:
    """Ids as one byte each, or (more than 256 experts) a low-byte plane then a high-byte plane."""
    flat = values.reshape(-1).astype(np.uint16)
    low = (flat & 0xFF).astype(np.uint8).tobytes()
    return low + (flat >> 8).astype(np.uint8).tobytes() if wide else low
