"""Big builds on Ray: read and embed in parallel, then save the same space folder.

``python -m explorer build INPUT --out DIR --engine ray`` runs here. The result is the
folder the single-machine path writes (items.parquet, vectors.npy of float32 unit rows,
the sealed manifest, index.bin), built by the same functions, so the app opens it
unchanged; it adds a UMAP map fitted on a sample with the rest placed (explorer.scale.maps).

Stages, and what Ray does in each:

1. read: Ray Data reads Parquet, CSV/TSV or JSON Lines, local or any fsspec/pyarrow URL
   (``s3://``, ``gs://``, ...), in parallel read tasks, blocks kept in file order
   (``preserve_order``). The driver then picks the id and text columns with the very
   logic of :func:`explorer.ingest.sources.read_source`, so ids and row order match
   ``build_from_file`` of the same file. Vectors come in too: a Parquet (or JSON Lines)
   list column, or ``.npy`` shards (one file, or a folder of them in name order, each
   read by a Ray task without unpickling); such a build skips the embedding.
2. embed (texts only): ``Dataset.map_batches`` with an actor pool
   (``ActorPoolStrategy``), one model per actor, CPU or ``num_gpus`` per actor. Each
   batch carries its row numbers, so the result's order never depends on which actor
   finished first; the blocks Ray returns are written one by one into a memory-mapped
   (n, d) file (Ray spills and back-pressures when the driver lags behind).
3. save and index: :func:`explorer.ingest.build.build_space` with the vectors given, exactly
   the single-machine save and index (hnswlib ``index.bin``, ef tuned).
4. map: see :mod:`explorer.scale.maps`.

Ray is optional: only the command line imports this module (when asked for it), and Ray is
imported inside the functions that use it. Scheduling, retries, spilling and progress
bars are Ray's own; Ray Data's progress bars are left on.

This is the operator's engine (the command line): any model the operator names loads
(``trusted``), and the app's row limits (``EXPLORER_MAX_ROWS``) do not apply.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import numpy as np
import pandas as pd

from explorer.core.errors import ExplorerError, InputError
from explorer.core.progress import Progress
from explorer.core.store import refuse_clash, update_manifest
from explorer.index.hnsw import IndexParams
from explorer.ingest.build import BuildSummary, build_space
from explorer.ingest.models import Precision, resolve_model, trusted_models

__all__ = [
    "RAY_HINT",
    "EmbedActor",
    "RayOptions",
    "embed_on_ray",
    "items_from_frame",
    "read_npy_shards",
    "ray_build",
    "read_table",
    "require_ray",
]


RAY_HINT = "pip install -r requirements-scale.txt"
# Input formats Ray Data reads here, by file extension (a folder needs --format).
_EXT_FORMAT = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".npy": "npy",
}
# A column the map stage adds: True for the rows UMAP was fitted on.
FITTED_COLUMN = "umap_fitted"


@dataclass(frozen=True)
class RayOptions:
    """How a Ray build runs.

    Attributes:
        address: the Ray cluster (``ray://host:10001`` or ``host:6379``); None joins the
            cluster named by RAY_ADDRESS, else starts a local one.
        num_workers: embedding actors; None: one per ``cpus_per_worker`` CPUs of the
            cluster, or per ``gpus_per_worker`` GPUs when that is set.
        gpus_per_worker: GPUs per actor (0: embed on CPU); fractions share a GPU.
        cpus_per_worker: CPUs per actor (torch uses that many threads).
        batch_size: rows per Ray batch (one ``embed_texts`` call in an actor).
        fit_sample: points UMAP is fitted on; the rest are placed by ``transform``.
        seed: of the fit sample and of UMAP.
        model, precision: as for the local build (``--model``, ``--precision``).
        index_params: hnswlib settings of the space's index (None: the defaults).
    """

    address: str | None = None
    num_workers: int | None = None
    gpus_per_worker: float = 0.0
    cpus_per_worker: float = 1.0
    batch_size: int = 1024
    fit_sample: int = 20_000
    seed: int = 42
    model: str | None = None
    precision: Precision = "auto"
    index_params: IndexParams | None = None

    def validate(self) -> None:
        """Raise InputError naming the first bad setting and what it may be."""
        if self.num_workers is not None and self.num_workers < 1:
            raise InputError(f"--num-workers must be at least 1, not {self.num_workers}.")
        if self.gpus_per_worker < 0 or self.cpus_per_worker <= 0:
            raise InputError("--gpus-per-worker must be 0 or more, and CPUs per worker above 0.")
        if self.batch_size < 1:
            raise InputError(f"The batch size must be at least 1, not {self.batch_size}.")
        if self.fit_sample < 50:
            raise InputError(f"--fit-sample must be at least 50 points, not {self.fit_sample}.")


def require_ray() -> ModuleType:
    """The ``ray`` module, or an InputError that says how to install it."""
    try:
        import ray
    except ImportError:
        raise InputError(
            f"--engine ray needs Ray, which is not installed here: {RAY_HINT} "
            "(or build with --engine local)."
        ) from None
    return ray


def ray_build(
    source: str,
    out: Path,
    *,
    options: RayOptions | None = None,
    fmt: str | None = None,
    text_col: str | None = None,
    id_col: str | None = None,
    limit: int | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> BuildSummary:
    """Build the space of `source` (a text table, a table with a vector column, or
    ``.npy`` shards: a path or URL) into `out` on Ray.

    Joins or starts Ray (a Ray started here is shut down at the end; one already
    running, e.g. a test's, is used as it is). Returns the build's summary.

    Raises:
        InputError: Ray missing, bad options, an unreadable input, or one with neither
            texts nor vectors.
    """
    opts = options or RayOptions()
    opts.validate()
    # Before hours of work (build_space checks again, under the name's lock).
    refuse_clash(Path(out), overwrite, "add --overwrite to replace it")
    if _format_of(source, fmt) == "npy":
        _shard_paths(source)  # a URL or an empty folder is refused before Ray starts
    ray = require_ray()
    started_here = not ray.is_initialized()
    if started_here:
        _connect(ray, opts.address)
    try:
        # The operator's engine: the model may be any folder or hub id (see models).
        with trusted_models():
            return _run(source, Path(out), opts, fmt, text_col, id_col, limit, overwrite, progress)
    finally:
        if started_here:
            ray.shutdown()


def _connect(ray: ModuleType, address: str | None) -> None:
    """Join the cluster at `address` (or RAY_ADDRESS), else start a local Ray.

    A remote cluster gets this package as a runtime ``py_modules`` entry, so its
    workers run the same engine code as the driver (their Python environment must
    hold the requirements).
    """
    import explorer

    if address or os.environ.get("RAY_ADDRESS"):
        package = str(Path(explorer.__file__).parent)
        ray.init(address=address, runtime_env={"py_modules": [package]})
    else:
        ray.init(include_dashboard=False)


def _run(
    source: str,
    out: Path,
    opts: RayOptions,
    fmt: str | None,
    text_col: str | None,
    id_col: str | None,
    limit: int | None,
    overwrite: bool,
    progress: Progress | None,
) -> BuildSummary:
    """Every stage of a Ray build; the space is published once its index is saved."""
    from explorer.opened.handle import OpenedSpace
    from explorer.scale.maps import add_map, fit_sample_rows

    report = progress or (lambda f, msg: None)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    report(0.0, f"Reading {source} with Ray")
    given: np.ndarray | None
    if _format_of(source, fmt) == "npy":
        items, given, record, notes = read_npy_shards(source, id_col, limit)
    else:
        frame, fmt, name = read_table(source, fmt, id_col)
        items, given, record, notes = items_from_frame(frame, name, fmt, text_col, id_col, limit)
    seconds["read"] = time.perf_counter() - t
    if FITTED_COLUMN in items.columns:
        raise InputError(f"The input has a column '{FITTED_COLUMN}', a name the Ray build uses.")
    # Given vectors record the model only when named (text queries are embedded by it),
    # as the local build does; texts are embedded by the model named or the default.
    spec = resolve_model(opts.model, trusted=True).spec if given is None or opts.model else None
    fitted = fit_sample_rows(len(items), opts.fit_sample, opts.seed)
    items[FITTED_COLUMN] = np.isin(np.arange(len(items)), fitted)
    with tempfile.TemporaryDirectory(prefix=".ray-build-", dir=_scratch_root(out)) as scratch:
        t = time.perf_counter()
        n_truncated, workers = 0, 0
        if given is None:
            assert spec is not None
            vectors, n_truncated, workers = embed_on_ray(
                items["text"], spec, opts, Path(scratch) / "vectors.npy", report
            )
            seconds["embed"] = time.perf_counter() - t
        else:
            vectors = given
        space, index, summary = build_space(
            items,
            vectors,
            out,
            model=spec,
            metric="cosine",
            source=record,
            notes=notes,
            index_params=opts.index_params,
            overwrite=overwrite,
            progress=lambda f, msg: report(0.6 + 0.2 * f, msg),
        )
    del vectors  # the scratch copy is gone; the space's own vectors.npy is mapped now
    seconds.update(summary.seconds)
    build = {"engine": "ray", "workers": workers, "gpus_per_worker": opts.gpus_per_worker}
    update_manifest(out, build={**build, "n_truncated": n_truncated})
    # The space is published and usable now; the map is a stored step added to it, as
    # the app adds maps (if this stage fails, `explorer project` makes one later).
    opened = OpenedSpace.just_saved(space, out, index)
    map_record = add_map(opened, fitted, opts.seed, seconds, report)
    update_manifest(out, build={"seconds": seconds}, map=map_record)
    summary.n_truncated = n_truncated
    summary.seconds = seconds
    summary.notes += [
        "Vectors read on Ray, as given"
        if given is not None
        else f"Embedded on Ray by {workers} worker(s)"
        + (f" with {opts.gpus_per_worker:g} GPU each" if opts.gpus_per_worker else " on CPU"),
        f"Map: UMAP fitted on {map_record['fitted_rows']:,} sampled points, "
        f"{map_record['placed_rows']:,} placed by transform "
        f"(trustworthiness {map_record['trustworthiness']:.3f})",
    ]
    report(1.0, f"Ray build done: {space.n:,} items in {sum(seconds.values()):.1f} s")
    return summary


def _scratch_root(out: Path) -> Path:
    """Where the vectors are gathered before saving: beside the space (same disk)."""
    root = Path(os.path.abspath(out)).parent
    root.mkdir(parents=True, exist_ok=True)
    return root


# --------------------------------------------------------------------------- read


def _format_of(source: str, fmt: str | None) -> str:
    """The table format of `source`: `fmt` when given, else from its extension."""
    if fmt is not None:
        if fmt not in set(_EXT_FORMAT.values()):
            raise InputError(
                f"--engine ray reads csv, tsv, parquet, jsonl or npy, not {fmt!r}. "
                "Use --engine local for other formats."
            )
        return fmt
    ext = os.path.splitext(source.rstrip("/"))[1].lower()
    if ext not in _EXT_FORMAT:
        raise InputError(
            f"Cannot tell the format of {source!r} from its extension: give --format "
            "csv, tsv, parquet, jsonl or npy (a folder of files needs it too)."
        )
    return _EXT_FORMAT[ext]


def _uri(source: str) -> str:
    """A URL as given; a local path made absolute (on a cluster, every node reads it:
    it must be on a shared file system, else give a URL such as ``s3://...``)."""
    if "://" in source:
        return source
    path = Path(source).expanduser()
    if not path.exists():
        raise InputError(f"There is no file or folder {source!r}.")
    return str(path.resolve())


def read_table(
    source: str, fmt: str | None = None, id_col: str | None = None
) -> tuple[pd.DataFrame, str, str]:
    """(the raw table in file order, its format, its name) read by Ray Data.

    Read as ``explorer.ingest.sources`` reads tables: ids as text (``007`` stays ``007``) and
    the same missing-value markers.
    """
    import pyarrow as pa
    import ray
    from pyarrow import csv

    from explorer.ingest.sources.common import NA_VALUES

    fmt = _format_of(source, fmt)
    uri = _uri(source)
    name = os.path.basename(source.rstrip("/")) or source
    try:
        if fmt in ("csv", "tsv"):
            ds = ray.data.read_csv(
                uri,
                parse_options=csv.ParseOptions(delimiter="," if fmt == "csv" else "\t"),
                convert_options=csv.ConvertOptions(
                    column_types={id_col or "id": pa.string()},
                    null_values=NA_VALUES,
                    strings_can_be_null=True,
                ),
            )
        elif fmt == "parquet":
            ds = ray.data.read_parquet(uri)
        else:
            ds = ray.data.read_json(uri)
        # Blocks come back in file order, so row numbers (ids) are the file's.
        ds.context.execution_options.preserve_order = True
        frame = ds.to_pandas()
    except (OSError, ValueError, pa.ArrowException, ray.exceptions.RayError) as exc:
        cause = getattr(exc, "cause", None) or exc  # a task's error, as the task raised it
        why = (str(cause).strip().splitlines() or [""])[0][:300]
        raise InputError(f"Could not read {source!r} as {fmt}: {why}") from None
    if len(frame) == 0:
        raise InputError(f"{source!r} has no rows to build from.")
    return frame, fmt, name


def items_from_frame(
    frame: pd.DataFrame,
    name: str,
    fmt: str,
    text_col: str | None = None,
    id_col: str | None = None,
    limit: int | None = None,
) -> tuple[pd.DataFrame, np.ndarray | None, dict[str, Any], list[str]]:
    """(items, vectors or None, source record, notes) of a raw table, as
    ``build_from_file`` makes them.

    The same column logic as :func:`explorer.ingest.sources.read_source` (its private
    phases, reused rather than copied): the text column, the ids (a unique ``id``
    column or row numbers after rows without text are skipped), the metadata, the
    texts cut to ``max_text_chars``, and the vectors of a list column (or of numeric
    columns) when the table holds them.

    Raises:
        InputError: neither texts nor vectors, or a bad id column.
    """
    from explorer.ingest.sources.assemble import Chosen, assemble
    from explorer.ingest.sources.bounds import cut_texts
    from explorer.ingest.sources.common import Opts
    from explorer.ingest.sources.read import source_record

    notes: list[str] = []
    chosen = Chosen()
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    opts = Opts(text_col, id_col, None, None, limit)
    items, vectors = assemble(frame, name, opts, None, notes, chosen)
    if "text" in items.columns:
        cut_texts(items, notes)
    kind: Literal["text", "vectors"] = "text" if vectors is None else "vectors"
    record = source_record([name], fmt, kind, items, vectors, chosen, limit, {})
    return items, vectors, {**record, "format": fmt, "kind": kind}, notes


def _shard_paths(source: str) -> list[Path]:
    """A .npy file, or the .npy files of a folder in name order."""
    if "://" in source:
        raise InputError(
            f"{source!r}: .npy shards are read from a path that every node of the cluster "
            "sees (a shared file system); for object stores, write the vectors as a "
            "Parquet list column."
        )
    path = Path(_uri(source))
    paths = sorted(path.glob("*.npy")) if path.is_dir() else [path]
    if not paths:
        raise InputError(f"The folder {source!r} holds no .npy files.")
    return paths


def _read_shard(path: str) -> np.ndarray:
    """One shard's (n, d) float32 rows (a Ray task: checked and never unpickled)."""
    from explorer.ingest.sources.arrays import read_npy

    return np.asarray(read_npy(Path(path)), dtype=np.float32)


def read_npy_shards(
    source: str, id_col: str | None = None, limit: int | None = None
) -> tuple[pd.DataFrame, np.ndarray, dict[str, Any], list[str]]:
    """(items, vectors, source record, notes) of ``.npy`` shards read in parallel Ray tasks,
    stacked in name order: the items and vectors ``build_from_file`` makes of one .npy
    holding the same rows (ids are row numbers)."""
    import ray

    from explorer.ingest.sources.assemble import Chosen, assemble
    from explorer.ingest.sources.common import Opts

    if id_col:
        raise InputError(".npy shards hold only vectors: their ids are row numbers.")
    paths = _shard_paths(source)
    task = ray.remote(_read_shard)
    try:
        parts = ray.get([task.remote(str(p)) for p in paths])
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None) or exc
        why = (str(cause).strip().splitlines() or [""])[0][:300]
        raise InputError(f"Could not read {source!r} as .npy shards: {why}") from None
    dims = {p.shape[1] if p.ndim == 2 else -1 for p in parts}
    if len(dims) != 1 or -1 in dims:
        raise InputError(f"The .npy shards of {source!r} must all be (rows, d) with one d.")
    vectors = np.concatenate(parts)
    if limit is not None:
        vectors = vectors[:limit]
    notes: list[str] = []
    chosen = Chosen()
    name = os.path.basename(source.rstrip("/")) or source
    items, vectors_out = assemble(
        pd.DataFrame(index=range(len(vectors))),
        name,
        Opts(None, None, None, None, limit),
        vectors,
        notes,
        chosen,
    )
    assert vectors_out is not None
    from explorer.ingest.sources.read import source_record

    record = source_record(
        [p.name for p in paths], "npy", "vectors", items, vectors_out, chosen, limit, {}
    )
    return items, vectors_out, {**record, "format": "npy", "kind": "vectors"}, notes


# --------------------------------------------------------------------------- embed


class EmbedActor:
    """One model per Ray actor: {"row", "text"} batches → {"row", "vector", "n_truncated"}.

    Ray Data constructs it once per actor and calls it on each batch. Vectors are
    (B, d) float32 unit rows from :func:`explorer.ingest.embed.embed_texts` (no cache: the
    actors of a cluster share no disk); ``n_truncated`` holds the batch's count of
    truncated texts on its first row and 0 elsewhere, so the column sums to the total.
    """

    def __init__(self, spec: str, precision: Precision, on_gpu: bool) -> None:
        from explorer.ingest.fast_mode import choose_precision
        from explorer.ingest.models import load_model

        self.spec = spec
        with trusted_models():
            self.precision = choose_precision(spec, precision).precision
        model = load_model(spec, self.precision, trusted=True)
        if on_gpu:
            model.to("cuda")  # loaded on CPU; this actor's process owns its copy
        # embed_texts sizes CPU batches to a token budget; a GPU wants larger ones.
        self.batch_size: int | None = 256 if on_gpu else None

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from explorer.ingest.embed import embed_texts

        texts = [str(t) for t in batch["text"]]
        with trusted_models():
            enc = embed_texts(
                texts,
                self.spec,
                precision=self.precision,
                batch_size=self.batch_size,
                use_cache=False,
            )
        counts = np.zeros(len(texts), dtype=np.int64)
        counts[0] = enc.n_truncated
        return {"row": np.asarray(batch["row"]), "vector": enc.vectors, "n_truncated": counts}


def _num_workers(ray: ModuleType, opts: RayOptions) -> int:
    """Actors to start: as asked, else as many as the cluster's CPUs or GPUs hold."""
    if opts.num_workers:
        return opts.num_workers
    res = ray.cluster_resources()
    if opts.gpus_per_worker > 0:
        n = int(res.get("GPU", 0) // opts.gpus_per_worker)
        if n < 1:
            raise InputError(
                "--gpus-per-worker was given, but the Ray cluster has no GPU. "
                "Start GPU workers, or embed on CPU (leave it out)."
            )
        return n
    return max(1, int(res.get("CPU", 1) // opts.cpus_per_worker))


def embed_on_ray(
    texts: pd.Series,
    spec: str,
    opts: RayOptions,
    scratch: Path,
    progress: Progress | None = None,
) -> tuple[np.ndarray, int, int]:
    """Embed `texts` with an actor pool; ((n, d) float32 unit rows in input order, texts
    truncated, workers used).

    The vectors are written block by block, each at its rows, into a memory-mapped .npy
    at `scratch` (the caller removes it after saving the space).
    """
    import ray

    n = len(texts)
    workers = _num_workers(ray, opts)
    # At least four blocks per worker, so that none sits idle at the end; a block of a
    # big input holds up to 16 batches, a small input has smaller batches.
    block = max(1, min(math.ceil(n / (4 * workers)), 16 * opts.batch_size))
    batch = min(opts.batch_size, block)
    frame = pd.DataFrame({"row": np.arange(n, dtype=np.int64), "text": texts.astype(str).values})
    # One block per slice (from_pandas' own override_num_blocks fails on pandas 3).
    ds = ray.data.from_pandas([frame.iloc[s : s + block] for s in range(0, n, block)])
    on_gpu = opts.gpus_per_worker > 0
    embedded = ds.map_batches(
        EmbedActor,
        fn_constructor_kwargs={"spec": spec, "precision": opts.precision, "on_gpu": on_gpu},
        compute=ray.data.ActorPoolStrategy(size=workers),
        batch_size=batch,
        batch_format="numpy",
        num_cpus=opts.cpus_per_worker,
        num_gpus=opts.gpus_per_worker if on_gpu else None,
    )
    if progress:
        device = f"{opts.gpus_per_worker:g} GPU" if on_gpu else f"{opts.cpus_per_worker:g} CPU"
        progress(0.05, f"Embedding {n:,} texts with {spec}: {workers} actor(s), {device} each")
    vectors: np.memmap[Any, np.dtype[np.float32]] | None = None
    seen = np.zeros(n, dtype=bool)
    truncated = 0
    for part in embedded.iter_batches(batch_size=None, batch_format="numpy"):
        rows, vecs = np.asarray(part["row"]), np.asarray(part["vector"], dtype=np.float32)
        if vectors is None:
            vectors = np.lib.format.open_memmap(
                scratch, mode="w+", dtype=np.float32, shape=(n, vecs.shape[1])
            )
        vectors[rows] = vecs
        seen[rows] = True
        truncated += int(np.asarray(part["n_truncated"]).sum())
    if vectors is None or not seen.all():
        raise ExplorerError(f"Ray returned vectors for {int(seen.sum())} of {n} texts; try again.")
    vectors.flush()
    return vectors, truncated, workers
