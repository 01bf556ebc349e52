"""Nearest-neighbour search: a thin hnswlib wrapper with an exact fallback.

Labels in the index are row numbers of the space, so the id ↔ label map is the
space's own row order (saved with it). Scores are similarities, higher is closer:
cosine similarity under ``cosine``, the dot product under ``ip`` and minus the
Euclidean distance under ``l2``.

Build once, then share read-only: hnswlib queries are not safe alongside adds.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import hnswlib
import numpy as np

from explorer.core.errors import ExplorerError, InputError
from explorer.core.limits import limits
from explorer.core.linalg import unit_rows
from explorer.core.manifest import check_once, read_manifest, verify_file
from explorer.core.progress import Progress
from explorer.core.space import Metric, Space
from explorer.core.store import atomic_save_npy, atomic_write_json
from explorer.core.validate import check_query
from explorer.index.file_check import HnswFileError, check_hnsw_file

__all__ = [
    "IndexParams",
    "IndexUnavailable",
    "VectorIndex",
    "build_index",
    "exact_search",
    "open_index",
    "tune_ef",
]


# hnswlib space per metric. Cosine vectors are already unit length, so the cheaper
# inner product gives the same order (distance = 1 - cos).
_HNSW_SPACE = {"cosine": "ip", "ip": "ip", "l2": "l2"}


@dataclass(frozen=True)
class IndexParams:
    """hnswlib settings. `exact_below`: spaces with fewer indexed rows use exact search."""

    M: int = 16
    # 64 builds faster than 200 with the same kNN agreement on the tuning sets (GloVe
    # and MiniLM words; docs/maps.md, "Which data chose what"); ef_search is then tuned
    # to keep recall@10 at 0.98 (see tune_ef).
    ef_construction: int = 64
    ef_search: int = 64
    exact_below: int = 5000
    seed: int = 100


def _scores_from_hnsw(dist: np.ndarray, metric: Metric) -> np.ndarray:
    if metric == "l2":
        return -np.sqrt(np.maximum(dist, 0.0))
    return 1.0 - dist


def exact_search(
    data: np.ndarray, queries: np.ndarray, k: int, metric: Metric, chunk: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force top-k. Returns (positions (m, k) int64, scores (m, k) float32), best first."""
    k = min(k, data.shape[0])
    # Keep each (queries × n) block of scores near 256 MB, whatever n is.
    chunk = max(1, min(chunk, 64_000_000 // max(1, data.shape[0])))
    out_i = np.empty((queries.shape[0], k), dtype=np.int64)
    out_s = np.empty((queries.shape[0], k), dtype=np.float32)
    sq = (data.astype(np.float32) ** 2).sum(1) if metric == "l2" else None
    for start in range(0, queries.shape[0], chunk):
        q = queries[start : start + chunk]
        sims = q @ data.T
        if sq is not None:
            # -||q - x||² up to a per-query constant keeps the order; fixed below.
            sims = 2 * sims - sq[None, :]
        top = (
            np.argpartition(-sims, k - 1, axis=1)[:, :k]
            if k < data.shape[0]
            else (np.tile(np.arange(data.shape[0]), (q.shape[0], 1)))
        )
        top_s = np.take_along_axis(sims, top, 1)
        order = np.argsort(-top_s, axis=1, kind="stable")
        top = np.take_along_axis(top, order, 1)
        top_s = np.take_along_axis(top_s, order, 1)
        if sq is not None:
            # Recompute the winners' distances directly: the expanded form above
            # loses precision for near-identical points.
            for j in range(0, q.shape[0], 64):
                diff = q[j : j + 64, None, :] - data[top[j : j + 64]]
                top_s[j : j + 64] = -np.sqrt((diff.astype(np.float32) ** 2).sum(-1))
        out_i[start : start + chunk] = top
        out_s[start : start + chunk] = top_s
    return out_i, out_s


class VectorIndex:
    """Search over the indexable rows of a space (zero vectors under cosine are left out)."""

    def __init__(
        self,
        vectors: np.ndarray,
        metric: Metric,
        rows: np.ndarray,
        params: IndexParams,
        hnsw: hnswlib.Index | None,
    ) -> None:
        self.vectors = vectors
        self.metric = metric
        self.rows = rows  # (n_indexed,) row numbers in the space
        self.params = params
        self._hnsw = hnsw
        # hnswlib keeps ef in the index object, not per query: set_ef and knn_query of
        # one query run together, so sessions sharing the index never change each
        # other's search breadth mid-query.
        self._query_lock = threading.Lock()
        # recall@10 against exact search at ef_search, measured by tune_ef (None: not
        # measured; an exact index needs none).
        self.recall: float | None = None

    @property
    def exact(self) -> bool:
        return self._hnsw is None

    @property
    def size(self) -> int:
        return int(self.rows.size)

    def search(
        self,
        queries: np.ndarray,
        k: int,
        exclude: np.ndarray | list[list[int]] | None = None,
        exact: bool = False,
        ef: int | None = None,
        among: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows and scores for each query.

        Args:
            queries: (m, d) float32; under cosine they are normalised here.
            k: wanted neighbours; clamped to what can be returned.
            exclude: (m, e) rows never returned per query (e.g. the item itself);
                pad with -1. Lists of lists are accepted.
            exact: force brute force (the reference for recall).
            ef: hnswlib's search breadth for this call (default: the index's ef_search);
                higher is slower and closer to exact; clamped to the operator's
                EXPLORER_MAX_EF.
            among: (n,) bool: return only these rows (searched exactly among them).

        Returns:
            rows (m, k') int64 and scores (m, k') float32, best first; k' ≤ k.
        """
        q = check_query(queries, self.vectors.shape[1])
        if self.metric == "cosine":
            q, norms = unit_rows(q)
            if (norms == 0).any():
                raise InputError("A zero query vector has no direction under cosine.")
        if k < 1:
            raise InputError(f"k must be at least 1 (got {k}).")
        ex = _pad_exclude(exclude, q.shape[0])
        if among is not None:
            return self._search_among(q, k, ex, among)
        want = min(k + ex.shape[1], self.size)
        if want < 1:
            raise InputError("The index is empty: no row has a usable vector.")
        found, scores = self._raw_search(q, want, exact, ef or self.params.ef_search)
        keep = ~(found[:, :, None] == ex[:, None, :]).any(-1)
        k_out = min(k, int(keep.sum(1).min()))
        # Stable sort on "excluded?" moves kept hits first and keeps their order.
        order = np.argsort(~keep, axis=1, kind="stable")[:, :k_out]
        return np.take_along_axis(found, order, 1), np.take_along_axis(scores, order, 1)

    def _search_among(
        self, q: np.ndarray, k: int, ex: np.ndarray, among: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k among the indexed rows marked in `among`, less each query's `ex`."""
        mask = np.asarray(among, dtype=bool)
        if mask.shape != (self.vectors.shape[0],):
            raise InputError(f"'among' must mark each of the {self.vectors.shape[0]} rows.")
        allowed = self.rows[mask[self.rows]]
        if allowed.size == 0:
            raise InputError("No indexed item is among the rows asked for.")
        want = min(k + ex.shape[1], allowed.size)
        pos, scores = exact_search(self.vectors[allowed], q, want, self.metric)
        found = allowed[pos]
        keep = ~(found[:, :, None] == ex[:, None, :]).any(-1)
        k_out = min(k, int(keep.sum(1).min()))
        order = np.argsort(~keep, axis=1, kind="stable")[:, :k_out]
        return np.take_along_axis(found, order, 1), np.take_along_axis(scores, order, 1)

    def _raw_search(
        self, q: np.ndarray, k: int, exact: bool, ef: int
    ) -> tuple[np.ndarray, np.ndarray]:
        if not (exact or self._hnsw is None):
            breadth = min(max(ef, k + 1), max(limits().max_ef, k + 1))
            try:
                with self._query_lock:
                    self._hnsw.set_ef(breadth)
                    labels, dist = self._hnsw.knn_query(q, k=k)
                return labels.astype(np.int64), _scores_from_hnsw(dist, self.metric).astype(
                    np.float32
                )
            except RuntimeError:
                pass  # hnswlib could not fill k results; the exact path can.
        pos, scores = exact_search(self._indexed_vectors(), q, k, self.metric)
        return self.rows[pos], scores

    def _indexed_vectors(self) -> np.ndarray:
        """The indexed rows' vectors, without copying when every row is indexed."""
        n = self.vectors.shape[0]
        if self.rows.size == n and self.rows[0] == 0 and self.rows[-1] == n - 1:
            return self.vectors  # rows are 0..n-1 (they are sorted and unique)
        return self.vectors[self.rows]

    def save(self, folder: Path, fingerprint: str) -> list[str]:
        """Write index.bin (hnswlib), index_rows.npy and index.json (parameters,
        fingerprint, measured recall), each atomically. Returns the files written, whose
        checksums the caller records in the manifest (see ``explorer.ingest.build.index_space``)."""
        folder = Path(folder)
        meta = {
            "params": asdict(self.params),
            "metric": self.metric,
            "exact": self.exact,
            "size": self.size,
            "fingerprint": fingerprint,
            "recall_at_10": self.recall,
        }
        written = ["index.json", "index_rows.npy"]
        if self._hnsw is not None:
            # A unique temporary name: two rebuilds never write into one file.
            tmp = folder / f".index.bin.{uuid.uuid4().hex[:8]}.tmp"
            try:
                self._hnsw.save_index(str(tmp))
                tmp.replace(folder / "index.bin")
            finally:
                tmp.unlink(missing_ok=True)
            written.append("index.bin")
        atomic_save_npy(folder / "index_rows.npy", self.rows)
        atomic_write_json(folder / "index.json", meta)
        return written

    @classmethod
    def load(cls, folder: Path, space: Space) -> VectorIndex | None:
        """Reopen an index this program saved for `space`; None if absent, stale or
        damaged (:func:`open_index` says which)."""
        try:
            return _load_checked(Path(folder), space)
        except IndexUnavailable:
            return None


class IndexUnavailable(ExplorerError):
    """A space has no usable saved index (missing, stale or damaged): rebuild it."""


def _unavailable(why: str) -> IndexUnavailable:
    return IndexUnavailable(
        f"This space's search index {why}. Rebuild it with 'Rebuild index' on Home, "
        "or: python -m explorer reindex SPACE_FOLDER."
    )


def _load_checked(folder: Path, space: Space, name: str | None = None) -> VectorIndex:
    """Load the index saved with `space`, after checking everything hnswlib will trust.

    The index files must be listed in the (sealed) manifest with matching checksums,
    belong to this content, and (for hnswlib) have a structure that fits the space:
    a file that fails any check is never handed to hnswlib.
    """
    name = name or folder.name
    man = read_manifest(folder, name)
    files = man["files"]
    if "index.json" not in files or "index_rows.npy" not in files:
        raise _unavailable("is missing")
    try:
        for rel in ("index.json", "index_rows.npy"):
            verify_file(folder, rel, files[rel], name)
        meta = json.loads((folder / "index.json").read_text())
        rows = np.asarray(np.load(folder / "index_rows.npy", allow_pickle=False), np.int64)
    except (ExplorerError, OSError, ValueError, KeyError):
        raise _unavailable("is damaged") from None
    if meta.get("fingerprint") != space.fingerprint or meta.get("metric") != space.metric:
        raise _unavailable("was made for other content")
    if rows.ndim != 1 or (rows.size and (rows.min() < 0 or rows.max() >= space.n)):
        raise _unavailable("is damaged")
    try:
        params = IndexParams(**meta["params"])
    except (TypeError, KeyError):
        raise _unavailable("is damaged") from None
    hnsw = None
    if not meta.get("exact", True):
        if "index.bin" not in files:
            raise _unavailable("is missing")
        path = folder / "index.bin"
        try:
            verify_file(folder, "index.bin", files["index.bin"], name)
            shape = f"hnsw:{space.dim}:{rows.size}:{space.n}"
            check_once(
                path, shape, lambda: check_hnsw_file(path, space.dim, int(rows.size), space.n)
            )
        except (ExplorerError, HnswFileError, OSError):
            raise _unavailable("is damaged or does not fit this space") from None
        hnsw = hnswlib.Index(space=_HNSW_SPACE[space.metric], dim=space.dim)
        hnsw.load_index(str(path))
        hnsw.set_ef(params.ef_search)  # ef is not saved by hnswlib: set it again
    index = VectorIndex(space.vectors, space.metric, rows, params, hnsw)
    recall = meta.get("recall_at_10")
    index.recall = float(recall) if isinstance(recall, int | float) else None
    return index


def open_index(folder: Path, space: Space, name: str | None = None) -> VectorIndex:
    """The index saved with `space` in `folder` (the space `name`, by default the folder's
    name). Reads only: never builds or writes; its files are checked once per process.

    Raises:
        IndexUnavailable: no index is saved, it was made for other content, or it is
            damaged or does not fit the space; the message says how to rebuild it (an
            explicit build action). A damaged file is never given to hnswlib.
    """
    return _load_checked(Path(folder).resolve(), space, name or Path(folder).name)


def _pad_exclude(exclude: np.ndarray | list[list[int]] | None, m: int) -> np.ndarray:
    if exclude is None:
        return np.full((m, 0), -1, dtype=np.int64)
    if isinstance(exclude, np.ndarray):
        return exclude.astype(np.int64).reshape(m, -1)
    width = max((len(e) for e in exclude), default=0)
    out = np.full((m, width), -1, dtype=np.int64)
    for i, e in enumerate(exclude):
        out[i, : len(e)] = list(e)
    return out


def build_index(
    vectors: np.ndarray,
    metric: Metric,
    rows: np.ndarray | None = None,
    params: IndexParams | None = None,
    progress: Progress | None = None,
    num_threads: int = -1,
) -> VectorIndex:
    """Index `vectors[rows]` (all rows by default); exact when there are few."""
    params = params or IndexParams()
    rows = np.arange(vectors.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    if rows.size < max(params.exact_below, 2):
        return VectorIndex(vectors, metric, rows, params, None)
    hnsw = hnswlib.Index(space=_HNSW_SPACE[metric], dim=vectors.shape[1])
    hnsw.init_index(
        max_elements=rows.size,
        ef_construction=params.ef_construction,
        M=params.M,
        random_seed=params.seed,
    )
    step = max(10_000, rows.size // 20)
    for start in range(0, rows.size, step):
        chunk = rows[start : start + step]
        hnsw.add_items(np.asarray(vectors[chunk], dtype=np.float32), chunk, num_threads=num_threads)
        if progress:
            progress(
                min(1.0, (start + chunk.size) / rows.size),
                f"Indexed {start + chunk.size:,} of {rows.size:,} vectors",
            )
    hnsw.set_ef(params.ef_search)
    return VectorIndex(vectors, metric, rows, params, hnsw)


EF_LADDER = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


def tune_ef(
    index: VectorIndex, target: float = 0.98, k: int = 10, sample: int = 200, seed: int = 0
) -> VectorIndex:
    """Set the smallest ef_search (from EF_LADDER) whose recall@k reaches `target`.

    Recall is measured on a sample of indexed items against exact search, each item
    left out of its own results, and kept in ``index.recall`` (saved with the index).
    Exact indexes are returned unchanged.
    """
    if index.exact or index.size <= k + 1:
        return index
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(index.rows, size=min(sample, index.size), replace=False))
    queries = np.asarray(index.vectors[rows], dtype=np.float32)
    truth, _ = index.search(queries, k, exclude=rows[:, None], exact=True)
    for ef in EF_LADDER:
        found, _ = index.search(queries, k, exclude=rows[:, None], ef=ef)
        recall = float((found[:, :, None] == truth[:, None, :]).any(-1).sum() / truth.size)
        if recall >= target:
            break
    # The last rung when none reaches the target: the best this index can do.
    index.params = replace(index.params, ef_search=ef)
    index.recall = recall
    return index
