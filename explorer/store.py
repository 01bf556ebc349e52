"""On-disk artifacts: a space is a folder; every write is atomic (temp file, then rename).

Layout of a space folder::

    manifest.json        schema, source, model, counts, fingerprint, complete flag, steps
    items.parquet        the table (id, text, metadata)
    vectors.npy          (n, d) float32
    index.bin/.json      the hnswlib index and its parameters (see explorer.index)
    steps/<kind>-<key>.npz + .json   one file per projection / clustering, with parameters

A build is staged in a hidden sibling folder and renamed into place when complete,
so a crash never leaves a half-written space under the real name. A folder whose
manifest is missing, not marked complete, or whose files do not match it, is refused
with IncompleteSpaceError.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import IncompleteSpaceError, InputError
from .space import Space

__all__ = [
    "SCHEMA_VERSION",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_save_npz",
    "is_space_dir",
    "list_spaces",
    "has_step",
    "load_step",
    "open_space",
    "read_manifest",
    "save_space",
    "save_step",
    "space_lock",
    "step_key",
    "update_manifest",
]

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
_CORE_FILES = ("items.parquet", "vectors.npy")


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())


def _atomic_save(path: Path, writer: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    try:
        writer(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_save_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Save numeric arrays (no object dtype: loading never unpickles)."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]

    _atomic_save(path, write)


def step_key(params: Mapping[str, Any]) -> str:
    """12 hex digits over canonical JSON of `params` (include the space fingerprint)."""
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def read_manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise IncompleteSpaceError(
            f"{folder} has no manifest.json, so it is not a complete space. "
            "Build it again (python -m explorer build ... --out DIR)."
        ) from None
    except json.JSONDecodeError:
        raise IncompleteSpaceError(
            f"{folder}/manifest.json is damaged. Build the space again."
        ) from None
    return data


def is_space_dir(folder: Path) -> bool:
    return (Path(folder) / MANIFEST).is_file()


@contextlib.contextmanager
def space_lock(folder: Path) -> Iterator[None]:
    """Hold the space's lock: one writer at a time (steps, manifest, index rebuilds).

    Two app sessions may add steps to one space at once; the lock keeps the
    read-modify-write of the manifest whole. Not re-entrant.
    """
    with open(Path(folder) / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def update_manifest(folder: Path, **changes: Any) -> dict[str, Any]:
    """Merge `changes` into the manifest (dict values merge one level deep)."""
    folder = Path(folder)
    with space_lock(folder):
        man = read_manifest(folder)
        for k, v in changes.items():
            if isinstance(v, dict) and isinstance(man.get(k), dict):
                man[k] = {**man[k], **v}
            else:
                man[k] = v
        atomic_write_json(folder / MANIFEST, man)
    return man


def save_space(space: Space, folder: Path, *, extra: Mapping[str, Any] | None = None) -> Path:
    """Write `space` to `folder` atomically, replacing any space already there.

    Returns the folder. `extra` is merged into the manifest (e.g. sample name, timings).
    """
    folder = Path(folder).resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    stage = folder.parent / f".{folder.name}.partial-{uuid.uuid4().hex[:8]}"
    stage.mkdir()
    try:
        space.items.to_parquet(stage / "items.parquet", index=False)
        np.save(stage / "vectors.npy", np.ascontiguousarray(space.vectors), allow_pickle=False)
        manifest: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "complete": True,
            "n": space.n,
            "dim": space.dim,
            "metric": space.metric,
            "model": space.model,
            "source": dict(space.source),
            "map_rows": space.map_rows,
            "fingerprint": space.fingerprint,
            "notes": list(space.notes),
            "columns": list(space.items.columns),
            "files": {f: (stage / f).stat().st_size for f in _CORE_FILES},
            "steps": {},
            **dict(extra or {}),
        }
        atomic_write_json(stage / MANIFEST, manifest)
        if folder.exists():
            old = folder.parent / f".{folder.name}.old-{uuid.uuid4().hex[:8]}"
            folder.rename(old)
            stage.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            stage.rename(folder)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return folder


def open_space(folder: Path) -> Space:
    """Open a saved space; raise IncompleteSpaceError if it was left half-written."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"No space folder at {folder}.")
    man = read_manifest(folder)
    if not man.get("complete") or man.get("schema") != SCHEMA_VERSION:
        raise IncompleteSpaceError(
            f"{folder} is not a complete space (interrupted build or old format). Build it again."
        )
    for name, size in man.get("files", {}).items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != size:
            raise IncompleteSpaceError(
                f"{folder}/{name} is missing or was cut short. Build the space again."
            )
    items = pd.read_parquet(folder / "items.parquet")
    vectors = np.load(folder / "vectors.npy", allow_pickle=False, mmap_mode="r")
    space = Space(
        items=items,
        vectors=vectors,
        metric=man["metric"],
        model=man.get("model"),
        source=man.get("source", {}),
        map_rows=man.get("map_rows"),
        notes=tuple(man.get("notes", ())),
        # The fingerprint of the saved content is taken from the manifest, so that
        # opening a large space does not re-hash its vectors.
        fingerprint=man["fingerprint"],
    )
    return space


def list_spaces(root: Path) -> list[dict[str, Any]]:
    """Manifests of the complete spaces directly under `root`, with their folder."""
    out: list[dict[str, Any]] = []
    root = Path(root)
    if not root.is_dir():
        return out
    for sub in sorted(root.iterdir()):
        if sub.name.startswith(".") or not sub.is_dir():
            continue
        try:
            man = read_manifest(sub)
        except IncompleteSpaceError:
            continue
        if man.get("complete"):
            out.append({**man, "folder": str(sub)})
    return out


def save_step(
    folder: Path, kind: str, key: str, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]
) -> None:
    """Store a step's arrays and parameters, then record it in the manifest."""
    folder = Path(folder)
    base = folder / "steps" / f"{kind}-{key}"
    atomic_save_npz(base.with_suffix(".npz"), arrays)
    atomic_write_json(base.with_suffix(".json"), dict(params))
    update_manifest(folder, steps={f"{kind}-{key}": dict(params)})


def load_step(
    folder: Path, kind: str, key: str
) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """The arrays and parameters of a stored step, or None if not stored (or damaged)."""
    base = Path(folder) / "steps" / f"{kind}-{key}"
    try:
        with np.load(base.with_suffix(".npz"), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        params = json.loads(base.with_suffix(".json").read_text())
    except (FileNotFoundError, ValueError, OSError):
        return None
    return arrays, params


def has_step(folder: Path, kind: str, key: str) -> bool:
    """Whether a step's result is stored (cheap: no loading)."""
    base = Path(folder) / "steps" / f"{kind}-{key}"
    return base.with_suffix(".npz").is_file() and base.with_suffix(".json").is_file()
