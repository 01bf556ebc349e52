"""Which precision a text model embeds at: bfloat16 where it is both fast and faithful.

bfloat16 is faster only on CPUs with native bfloat16 instructions
(:func:`explorer.ingest.models.fast_precision_supported`), and only some models keep
their vectors when their weights are rounded to it. So before a model embeds in
bfloat16 it embeds a fixed set of probe texts in both precisions, once per model and
process, and bfloat16 is used only if every probe's cosine to float32 is at least
:data:`MIN_COSINE`. Otherwise, or if the model cannot load or run in bfloat16, it
embeds in float32 (PyTorch, as before) and the note says why. docs/performance.md has
the speed and the retrieval and zero-shot figures of both precisions.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Literal

import numpy as np

from explorer.core.errors import InputError
from explorer.core.linalg import unit_rows
from explorer.ingest.models import Precision, load_model, resolve_model, resolve_precision

__all__ = ["MIN_COSINE", "PROBES", "Verdict", "choose_precision", "forget_verdicts"]

_log = logging.getLogger("explorer")

MIN_COSINE = 0.99  # the quality bar of issue 19: each text's cosine to float32

# Short and long, plain and odd: words, a sentence, digits, non-Latin script, code, a
# paragraph near the packaged model's 256-token limit. Rounding hurts long inputs most.
PROBES: tuple[str, ...] = (
    "frog",
    "queen",
    "the",
    "New York City",
    "A dog runs across the field after a red ball.",
    "The central bank raised interest rates by a quarter of a point on Tuesday.",
    "3.14159 26535 89793",
    "Das Wetter ist heute schön, aber morgen soll es regnen.",
    "東京は日本の首都です。",
    "def add(a, b):\n    return a + b",
    "a small, round, fleshy fruit with a hard stone; it grows on trees in warm climates",
    "!!! ??? ...",
    " ".join(
        [
            "In the early hours of the morning the village was quiet, the bakery lit,",
            "the fishing boats drawn up on the shingle, and the only sound the wind in",
            "the rigging. By noon the square was full of traders selling cheese, honey,",
            "wool and iron tools, and children ran between the stalls while their",
            "parents argued over the price of salt.",
        ]
        * 4
    ),
)


@dataclass(frozen=True)
class Verdict:
    """precision: what the model embeds at; cos_min: the probes' lowest cosine to
    float32 (None: not measured); note: for people, why it is not what was asked."""

    precision: Literal["fp32", "bf16"]
    cos_min: float | None
    note: str


_VERDICTS: dict[str, Verdict] = {}  # by ModelInfo.identity: one probe per model and process
_LOCK = threading.Lock()


def forget_verdicts() -> None:
    """Forget every model's probe (tests; a model folder changed in place)."""
    with _LOCK:
        _VERDICTS.clear()


def choose_precision(spec: str | None, asked: Precision) -> Verdict:
    """The precision model `spec` embeds at when `asked` for one.

    "fp32" is float32. "auto" and "bf16" are bfloat16 where the CPU runs it natively and
    the model passes the probe (see the module's notes), else float32: "auto" says so
    only when the probe failed, "bf16" always.

    Raises:
        InputError: an unknown precision.
        ModelError: the model cannot be used at all (not allowed, or float32 fails too).
    """
    run_as, cpu_note = resolve_precision(asked)
    if run_as == "fp32":
        return Verdict("fp32", None, cpu_note)
    info = resolve_model(spec)
    with _LOCK:
        verdict = _VERDICTS.get(info.identity)
        if verdict is None:
            verdict = _probe(spec)
            _VERDICTS[info.identity] = verdict
    return verdict


def _probe(spec: str | None) -> Verdict:
    """Embed :data:`PROBES` in float32 and bfloat16 and compare them."""
    reference = _vectors(load_model(spec, "fp32"))  # a failure here is the model's own
    try:
        fast = _vectors(load_model(spec, "bf16"))
    except Exception as exc:  # noqa: BLE001 - any bfloat16 failure falls back to float32
        _log.warning("bfloat16 failed for model %r; float32 is used", spec, exc_info=exc)
        return Verdict("fp32", None, "This model did not run in bfloat16; embedded in float32.")
    if fast.shape != reference.shape or not np.isfinite(fast).all():
        return Verdict("fp32", None, "This model's bfloat16 vectors were unusable; used float32.")
    cos_min = float((reference * fast).sum(axis=1).min())
    if cos_min < MIN_COSINE:
        return Verdict(
            "fp32",
            cos_min,
            f"bfloat16 moved this model's vectors too far (cosine {cos_min:.3f} to float32,"
            f" below {MIN_COSINE}); embedded in float32.",
        )
    return Verdict("bf16", cos_min, "")


def _vectors(model: object) -> np.ndarray:
    """(len(PROBES), d) float32 unit rows of the probes by `model`."""
    encode = getattr(model, "encode", None)
    if not callable(encode):
        raise InputError("The model has no encode method.")
    raw = encode(list(PROBES), batch_size=len(PROBES), convert_to_numpy=True)
    return unit_rows(np.asarray(raw, dtype=np.float32))[0]
