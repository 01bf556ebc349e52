"""Batched, cached text encoding: texts → (n, d) float32 unit vectors.

Each distinct text is embedded once per model and precision (see
:mod:`explorer.ingest.embed_cache`). New texts are encoded longest first in chunks whose
batches fit a budget of padded tokens, and each chunk is cached as soon as it is done.
Texts longer than the model reads are counted, cheaply (:func:`_truncated`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from explorer.core.errors import InputError
from explorer.core.linalg import unit_rows
from explorer.core.progress import Progress
from explorer.ingest.embed_cache import EmbeddingCache, default_cache_dir
from explorer.ingest.fast_mode import choose_precision
from explorer.ingest.models import Precision, load_model, resolve_model

__all__ = ["DEFAULT_BATCH", "TOKENS_PER_THREAD", "Encoded", "Progress", "embed_texts"]


DEFAULT_BATCH: int | None = None  # None: sized per chunk by _auto_batch
TOKENS_PER_THREAD = 384  # padded tokens per batch and torch thread when batch_size is None


@dataclass
class Encoded:
    """vectors: (n, d) float32 unit rows; n_truncated: texts longer than the model reads.

    n_cached: rows whose vector came from the cache; max_seq_length: tokens the model
    reads (0: it does not say); seconds: wall time of the call; model: the resolved spec.
    precision: the one used ("fp32" or "bf16"); note: why it differs from the one asked.
    """

    vectors: np.ndarray
    n_truncated: int
    n_cached: int
    max_seq_length: int
    seconds: float
    model: str
    precision: str = "fp32"
    note: str = ""


@dataclass
class _Job:
    """The fixed parts of one embed_texts call, shared by its steps."""

    model: Any  # a loaded SentenceTransformer
    max_len: int  # tokens the model reads; 0 if it does not say
    cache: EmbeddingCache | None  # None: use_cache=False
    identity: str  # the cache's model key: f"{ModelInfo.identity}#{precision run}"
    texts: list[str]  # (n,) as given, made str
    keys: list[bytes]  # (n,) EmbeddingCache.key of each text
    batch_size: int | None
    progress: Progress | None
    started: float  # time.perf_counter() at the call's start


def embed_texts(
    texts: Sequence[str],
    spec: str | None = None,
    *,
    cache_dir: Path | None = None,
    batch_size: int | None = DEFAULT_BATCH,
    precision: Precision = "fp32",
    progress: Progress | None = None,
    use_cache: bool = True,
) -> Encoded:
    """Embed `texts` with a sentence-transformers model, reusing cached vectors.

    Each distinct text is embedded once. New texts are encoded longest first (by
    characters, as sentence-transformers orders each call), so each batch holds texts
    of similar length and pads little; progress is reported as (fraction 0..1,
    message) after every chunk, and each chunk is cached as soon as it is done.
    batch_size None sizes each chunk's batches to a token budget (few long texts or
    many short ones per batch: on CPU both run fastest so). precision "auto" or "bf16"
    uses bfloat16 where the CPU runs it natively and the model passes the probe of
    :mod:`explorer.ingest.fast_mode`, and otherwise float32, saying why in `note`.

    Returns:
        Encoded, whose vectors are (len(texts), d) float32 unit rows in input order.
    """
    if len(texts) == 0:
        raise InputError("No rows: there are no texts to embed.")
    if batch_size is not None and batch_size < 1:
        raise InputError(f"batch_size must be at least 1, not {batch_size}.")
    t0 = time.perf_counter()
    info = resolve_model(spec)
    verdict = choose_precision(spec, precision)
    run_as, note = verdict.precision, verdict.note
    model = load_model(spec, run_as)
    as_str = [str(t) for t in texts]
    job = _Job(
        model=model,
        max_len=int(getattr(model, "max_seq_length", 0) or 0),
        cache=EmbeddingCache(cache_dir or default_cache_dir()) if use_cache else None,
        identity=f"{info.identity}#{run_as}",
        texts=as_str,
        keys=[EmbeddingCache.key(t) for t in as_str],
        batch_size=batch_size,
        progress=progress,
        started=t0,
    )
    vec_of, trunc_of, todo = _look_up(job)
    n_cached = sum(1 for k in job.keys if k in vec_of)
    _encode_and_store(job, todo, vec_of, trunc_of)
    if not todo and progress:
        progress(1.0, f"All {len(as_str):,} texts were already embedded (cache)")
    vectors = np.stack([vec_of[k] for k in job.keys]).astype(np.float32, copy=False)
    truncated = sum(1 for k in job.keys if trunc_of[k]) if job.max_len else 0
    return Encoded(
        vectors, truncated, n_cached, job.max_len, time.perf_counter() - t0, info.spec, run_as, note
    )


def _look_up(job: _Job) -> tuple[dict[bytes, np.ndarray], dict[bytes, bool], list[int]]:
    """What the cache holds for the job's distinct texts, and what is left to encode.

    Texts with no truncation flag (new, or cached by an older version) are tokenised
    here; flags for cached vectors are stored at once.

    Returns:
        (vector by key: (d,) float32 unit rows of the cached texts; truncated by key:
        every distinct text; rows to encode: the first row of each uncached text,
        longest first)
    """
    first: dict[bytes, int] = {}  # each distinct text → its first row
    for i, k in enumerate(job.keys):
        first.setdefault(k, i)
    known = job.cache.get(job.identity, list(first)) if job.cache else {}
    vec_of = {k: v for k, (v, _) in known.items()}
    trunc_of = {k: t for k, (_, t) in known.items() if t is not None}

    # Longest first; ties keep input order, so results never depend on the set's order.
    todo = sorted((i for k, i in first.items() if k not in known), key=lambda i: -len(job.texts[i]))
    unknown = [i for k, i in first.items() if k not in trunc_of]
    flags = _truncated(job.model, [job.texts[i] for i in unknown], job.max_len)
    trunc_of.update((job.keys[i], t) for i, t in zip(unknown, flags, strict=True))
    stale = [job.keys[i] for i in unknown if job.keys[i] in known]  # cached by an older version
    if job.cache and stale:
        job.cache.set_truncated(job.identity, stale, [trunc_of[k] for k in stale])
    return vec_of, trunc_of, todo


def _encode_and_store(
    job: _Job, todo: list[int], vec_of: dict[bytes, np.ndarray], trunc_of: dict[bytes, bool]
) -> None:
    """Encode rows `todo` chunk by chunk, caching each chunk and adding it to `vec_of`.

    Chunks are about 1/20 of the work (progress steps), each a whole number of batches;
    vectors are normalised here, in float32 (also for bf16 models).
    """
    start = 0
    while start < len(todo):
        part, batch = _next_chunk(job, todo, start)
        start += len(part)
        vecs = job.model.encode(
            [job.texts[i] for i in part],
            batch_size=batch,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        # (len(part), d) float32 unit rows, a new array: the model's buffer is not ours.
        vecs = unit_rows(vecs)[0]
        part_keys = [job.keys[i] for i in part]
        if job.cache:
            job.cache.put(job.identity, part_keys, vecs, [trunc_of[k] for k in part_keys])
        vec_of.update(zip(part_keys, vecs, strict=True))
        if job.progress:
            done = start
            rate = done / max(time.perf_counter() - job.started, 1e-9)
            job.progress(
                done / len(todo),
                f"Embedded {done:,} of {len(todo):,} new texts"
                f" · about {(len(todo) - done) / rate:.0f} s left",
            )


def _next_chunk(job: _Job, todo: list[int], start: int) -> tuple[list[int], int]:
    """The rows of the chunk of `todo` that begins at `start`, and its batch size."""
    if job.batch_size is None:
        size = min(4096, max(64, -(-len(todo) // 20)))
        batch = _auto_batch(
            job.model, [job.texts[i] for i in todo[start : start + size]], job.max_len
        )
        size = -(-size // batch) * batch
    else:
        batch = job.batch_size
        size = batch * max(8, min(64, -(-len(todo) // (20 * batch))))
    return todo[start : start + size], batch


def _auto_batch(model: Any, texts: Sequence[str], max_len: int) -> int:
    """A batch size for texts of about this length: a budget of padded tokens per batch.

    Long texts run fastest a few per batch and short ones many per batch, so a fixed
    budget of padded tokens fits both (docs/design-figures.md has the batch sizes); the
    budget grows with torch's thread count.
    """
    import torch

    tok = getattr(model, "tokenizer", None)
    sample = list(texts[:: max(1, len(texts) // 16)])
    if tok is None or not sample:
        return 32
    cap = max_len or 512
    counts = _token_counts(tok, [_head(t, 12 * cap) for t in sample])
    mean = sum(min(n, cap) for n in counts) / len(counts)
    budget = TOKENS_PER_THREAD * max(2, min(torch.get_num_threads(), 16))
    return int(max(4, min(256, budget // max(mean, 1))))


def _truncated(model: Any, texts: Sequence[str], max_len: int) -> list[bool]:
    """Whether each text has more tokens (special ones included) than the model reads.

    Cheap: a token covers at least one byte of text (WordPiece, byte-level BPE,
    SentencePiece with byte fallback), so texts under half the limit in bytes are
    skipped; the rest are tokenised, the longest ones only up to a head cut at a
    space (a head's tokens never outnumber the whole text's).
    """
    if not max_len or not texts:
        return [False] * len(texts)
    tok = getattr(model, "tokenizer", None)
    if tok is None:
        return [len(t) > max_len for t in texts]
    try:
        specials = int(tok.num_special_tokens_to_add(pair=False))
    except Exception:  # noqa: BLE001 - a tokenizer without it: assume [CLS] … [SEP]
        specials = 2
    out = [False] * len(texts)
    cands = [
        i
        for i, t in enumerate(texts)
        if 2 * len(t.encode("utf-8", "replace")) + specials + 1 > max_len
    ]
    head_chars = 12 * max_len
    heads = [_head(texts[i], head_chars) for i in cands]
    counts = _token_counts(tok, heads)
    unsure: list[int] = []
    for i, head, n in zip(cands, heads, counts, strict=True):
        if n > max_len:
            out[i] = True
        elif len(head) < len(texts[i]):
            unsure.append(i)
    for i, n in zip(unsure, _token_counts(tok, [texts[i] for i in unsure]), strict=True):
        out[i] = n > max_len
    return out


def _head(text: str, n: int) -> str:
    """`text` up to about `n` characters, cut at whitespace (the whole text if short)."""
    if len(text) <= n:
        return text
    cut = text.rfind(" ", 0, n)
    return text[: cut if cut > 0 else n]


def _token_counts(tok: Any, texts: Sequence[str]) -> list[int]:
    """Token count of each text with special tokens (the model's own tokenizer)."""
    out: list[int] = []
    for start in range(0, len(texts), 4096):
        enc = tok(
            list(texts[start : start + 4096]),
            add_special_tokens=True,
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        out.extend(len(ids) for ids in enc["input_ids"])
    return out
