"""The build pipeline: source → (embed) → validated space → saved folder → index.

Each stage reports progress as (fraction of the whole build 0..1, message).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.progress import Progress, stage
from explorer.core.space import Metric, Space, make_space
from explorer.core.store import (
    digests,
    edit_manifest,
    name_of_version,
    new_version,
    read_space,
    update_manifest,
    write_space_files,
)
from explorer.index.hnsw import IndexParams, VectorIndex, build_index, tune_ef
from explorer.ingest.embed import embed_texts
from explorer.ingest.models import Precision, resolve_model
from explorer.ingest.samples import load_sample
from explorer.ingest.word_categories import with_word_categories
from explorer.opened.handle import OpenedSpace

__all__ = [
    "BuildSummary",
    "build_from_file",
    "build_sample",
    "build_space",
    "index_space",
    "reindex",
]


@dataclass
class BuildSummary:
    """What a build did, for the end-of-build message and the manifest."""

    folder: str
    n: int
    dim: int
    metric: str
    model: str | None
    n_truncated: int = 0
    n_cached: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    index: str = ""

    def lines(self) -> list[str]:
        """Human summary, one fact per line."""
        out = [f"{self.n:,} items × {self.dim} dimensions, metric {self.metric}"]
        if self.model:
            out.append(f"Embedded with {self.model}; {self.n_cached:,} texts came from the cache")
            out.append(
                f"{self.n_truncated:,} text(s) were longer than the model reads and were truncated"
                if self.n_truncated
                else "No text was truncated"
            )
        out.append(f"Index: {self.index}")
        out.extend(self.notes)
        out.append("Took " + ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()))
        return out


def index_space(
    folder: Path,
    space: Space,
    params: IndexParams | None = None,
    progress: Progress | None = None,
) -> VectorIndex:
    """Build the space's index, tune its search breadth and save it in `folder`.

    The explicit build action behind a build and 'Rebuild index': opening a space
    never writes (``explorer.index.hnsw.open_index``). Runs under the space's lock, so
    two rebuilds of one space do not interleave.
    """
    index = build_index(
        space.vectors,
        space.metric,
        rows=np.flatnonzero(space.indexable),
        params=params,
        progress=progress,
    )
    # The smallest search breadth that keeps recall@10 at 0.98 or more.
    tune_ef(index)
    # Files and their checksums change together, under the space's lock.
    with edit_manifest(folder) as man:
        written = index.save(folder, space.fingerprint)
        man["files"].update(digests(folder, written))
        man["index_params"] = asdict(index.params)
    return index


def reindex(opened: OpenedSpace, progress: Progress | None = None) -> VectorIndex:
    """Rebuild the index of the saved space `opened` (its stored parameters, if any)."""
    assert opened.version is not None, "only a saved space has an index to rebuild"
    params = opened.manifest().get("index_params")
    return index_space(
        opened.version,
        opened.space,
        IndexParams(**params) if isinstance(params, dict) else None,
        progress,
    )


@dataclass
class _Embedded:
    """Vectors for a build: given, or embedded from the items' text by `model`."""

    vectors: np.ndarray | None
    model: str | None = None
    n_truncated: int = 0
    n_cached: int = 0


def _embed(
    items: pd.DataFrame,
    model: str | None,
    precision: Precision,
    cache_dir: Path | None,
    progress: Progress | None,
    notes: list[str],
) -> _Embedded:
    """Embed `items.text` with `model`; what the encoder noted is added to `notes`."""
    if "text" not in items.columns:
        raise InputError("There are no vectors and no text column to embed.")
    info = resolve_model(model)
    enc = embed_texts(
        items["text"].astype(str).tolist(),
        model,
        precision=precision,
        cache_dir=cache_dir,
        progress=progress,
    )
    if getattr(enc, "note", ""):
        notes.append(enc.note)  # e.g. bfloat16 asked for but not supported here
    if getattr(enc, "precision", "fp32") == "bf16":
        notes.append("Embedded in bfloat16 (fast mode).")
    return _Embedded(enc.vectors, info.spec, enc.n_truncated, enc.n_cached)


def _summary(
    folder: Path, space: Space, index: VectorIndex, emb: _Embedded, seconds: dict[str, float]
) -> BuildSummary:
    return BuildSummary(
        folder=str(folder),
        n=space.n,
        dim=space.dim,
        metric=space.metric,
        model=emb.model,
        n_truncated=emb.n_truncated,
        n_cached=emb.n_cached,
        notes=list(space.notes),
        seconds=seconds,
        index=_index_phrase(index),
    )


def _index_phrase(index: VectorIndex) -> str:
    if index.exact:
        return "exact search"
    return f"hnswlib (M={index.params.M}, ef_construction={index.params.ef_construction})"


def build_space(
    items: pd.DataFrame,
    vectors: np.ndarray | None,
    out: Path,
    *,
    model: str | None = None,
    metric: Metric | None = None,
    map_rows: int | None = None,
    source: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    precision: Precision = "auto",
    index_params: IndexParams | None = None,
    duplicates: Literal["reject", "first"] = "reject",
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    extra: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    wait: bool = False,
    thumbnails: np.ndarray | None = None,
    word_categories: bool = True,
) -> tuple[Space, VectorIndex, BuildSummary]:
    """Build and save a space in `out`; embeds `items.text` when `vectors` is None.

    Returns the opened space, its index and a summary. The build holds the name's
    lock and writes a new hidden version that replaces the name only when every
    stage succeeded (see ``explorer.core.store.new_version``): a failed or killed build
    leaves the previous version as it was.

    Args:
        overwrite: replace a space of that name (else SpaceExists is raised, before
            any work).
        wait: wait for another build of the same name instead of failing at once.
        model: with `vectors` given, the model that made them (recorded, so that text
            queries are embedded by it: a CLIP model's text side, say).
        thumbnails: (n, s, s, 3) uint8 small pictures of the items (images), saved
            as ``thumbs.npy`` for hover and neighbour lists (:mod:`explorer.ingest.thumbs`).
        word_categories: single words get WordNet's categories as a column
            (:mod:`explorer.ingest.word_categories`); False for items that carry them.
    """
    if len(items) == 0:
        raise InputError("No rows: the input is empty, so there is nothing to build.")
    if word_categories:
        items, note = with_word_categories(items)
        notes = [*notes, note] if note else notes
    with new_version(Path(out), overwrite=overwrite, wait=wait) as version:
        space, index, emb, seconds = _build_into(
            version,
            items,
            vectors,
            model,
            metric,
            map_rows,
            source,
            list(notes),
            precision,
            index_params,
            duplicates,
            cache_dir,
            progress,
            extra,
            thumbnails,
        )
    folder = Path(os.path.abspath(out))
    summary = _summary(folder, space, index, emb, seconds)
    if progress:
        progress(1.0, f"Built {space.n:,} items in {sum(seconds.values()):.1f} s")
    return space, index, summary


def _build_into(
    version: Path,
    items: pd.DataFrame,
    vectors: np.ndarray | None,
    model: str | None,
    metric: Metric | None,
    map_rows: int | None,
    source: Mapping[str, Any] | None,
    notes: list[str],
    precision: Precision,
    index_params: IndexParams | None,
    duplicates: Literal["reject", "first"],
    cache_dir: Path | None,
    progress: Progress | None,
    extra: Mapping[str, Any] | None,
    thumbnails: np.ndarray | None = None,
) -> tuple[Space, VectorIndex, _Embedded, dict[str, float]]:
    """Every stage of a build, written into the new version folder `version`."""
    seconds: dict[str, float] = {}
    # Given vectors keep the model that made them (checked like any other model).
    emb = _Embedded(vectors, resolve_model(model).spec if model and vectors is not None else None)
    if vectors is None:
        t = time.perf_counter()
        emb = _embed(items, model, precision, cache_dir, stage(progress, 0.0, 0.75), notes)
        seconds["embed"] = time.perf_counter() - t
    mat = np.asarray(emb.vectors)
    if metric is None:
        # 2-D/3-D inputs are coordinates: normalising them would destroy the picture.
        metric = "l2" if mat.ndim == 2 and mat.shape[1] <= 3 else "cosine"
    t = time.perf_counter()
    space = make_space(
        items,
        mat,
        metric=metric,
        model=emb.model,
        source=source,
        map_rows=map_rows,
        duplicates=duplicates,
        notes=notes,
    )
    if progress:
        progress(0.78, f"Saving {space.n:,} items")
    write_space_files(space, version, extra)
    if thumbnails is not None:
        from explorer.ingest.thumbs import save_thumbnails

        save_thumbnails(version, thumbnails, space.n)
    seconds["save"] = time.perf_counter() - t
    t = time.perf_counter()
    space = read_space(version, name_of_version(version))
    index = index_space(version, space, index_params, stage(progress, 0.8, 0.99))
    seconds["index"] = time.perf_counter() - t
    update_manifest(
        version,
        build={
            "n_truncated": emb.n_truncated,
            "n_cached": emb.n_cached,
            "seconds": seconds,
            "index": _index_phrase(index),
        },
    )
    return space, index, emb, seconds


def build_from_file(
    path: Path,
    out: Path,
    *,
    read_kwargs: Mapping[str, Any] | None = None,
    **build_kwargs: Any,
) -> tuple[Space, VectorIndex, BuildSummary]:
    """Read a user's file with explorer.ingest.sources and build a space from it."""
    from explorer.ingest.sources import read_source

    loaded = read_source(path, **dict(read_kwargs or {}))
    source = {**loaded.source, "format": loaded.fmt, "kind": loaded.kind}
    return build_space(
        loaded.items,
        loaded.vectors,
        out,
        source=source,
        notes=[*loaded.notes, *build_kwargs.pop("notes", [])],
        **build_kwargs,
    )


def build_sample(
    name: str, out: Path, *, progress: Progress | None = None, **build_kwargs: Any
) -> tuple[Space, VectorIndex, BuildSummary]:
    """Build a built-in sample (see explorer.ingest.samples.SAMPLES) into `out`."""
    sample, data = load_sample(name)
    return build_space(
        data.items,
        data.vectors,
        out,
        model=sample.model,
        metric=data.metric,
        map_rows=data.map_rows,
        source={"sample": name, "title": sample.title},
        progress=progress,
        extra={"sample": name, "title": sample.title, "description": sample.description},
        word_categories=data.word_categories,
        **build_kwargs,
    )
