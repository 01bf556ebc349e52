"""On-disk artifacts: a space is a folder; every write is atomic; readers never see half.

Layout of a spaces folder::

    words -> .words.v-1a2b3c4d     the name: a symbolic link to the current version
    .words.v-1a2b3c4d/             one version of the space
        manifest.json              schema, counts, fingerprint, checksums, steps, seal
        items.parquet              the table (id, text, metadata)
        vectors.npy                (n, d) float32
        index.bin/.json, index_rows.npy   the hnswlib index (see explorer.index)
        steps/<kind>-<key>.npz + .json    one file per projection / clustering / quality
    .locks/words.lock              held while a build of "words" runs

A build writes a new hidden version under the name's lock, then swaps the link in one
atomic rename, so viewers see the old version or the new one, never a missing or
half-written folder, and a build killed at any moment leaves the previous version
usable. The next build of the name removes replaced and half-written versions. A
name is never replaced unless the caller says so (``overwrite=True``).
Opening checks the manifest and every file's checksum first (``explorer.core.manifest``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from explorer.core.errors import ExplorerError, IncompleteSpaceError, InputError
from explorer.core.manifest import (
    CORE_FILES,
    MANIFEST,
    SCHEMA_VERSION,
    digest_and_trust,
    file_digest,
    read_manifest,
    seal,
    verify_file,
)
from explorer.core.space import Space

__all__ = [
    "SpaceExists",
    "atomic_save_npy",
    "atomic_save_npz",
    "atomic_write_chunks",
    "atomic_write_bytes",
    "atomic_write_json",
    "check_space_name",
    "digests",
    "edit_manifest",
    "has_step",
    "is_space_dir",
    "list_spaces",
    "load_step",
    "name_lock",
    "name_of_version",
    "new_version",
    "read_space",
    "read_manifest",
    "refuse_clash",
    "save_space",
    "save_step",
    "space_lock",
    "step_key",
    "update_manifest",
    "write_space_files",
]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")


class SpaceExists(InputError):
    """A space of that name exists, and replacing it was not asked for."""


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


def _atomic_save(path: Path, writer: Any) -> None:
    """Write through `writer(tmp)` to a unique temporary name, then rename into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    try:
        writer(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new, never half."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    _atomic_save(path, write)


def atomic_write_chunks(path: Path, chunks: Iterable[bytes]) -> int:
    """Write `chunks` to `path` so that readers see the old file or the new, never half;
    returns the bytes written."""
    size = 0

    def write(tmp: Path) -> None:
        nonlocal size
        with open(tmp, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                size += len(chunk)

    _atomic_save(path, write)
    return size


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())


def atomic_save_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Save numeric arrays (no object dtype: loading never unpickles)."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]

    _atomic_save(path, write)


def atomic_save_npy(path: Path, array: np.ndarray) -> None:
    """Save one numeric array as .npy (allow_pickle=False), atomically."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, np.asarray(array), allow_pickle=False)

    _atomic_save(path, write)


def step_key(params: Mapping[str, Any]) -> str:
    """12 hex digits over canonical JSON of `params` (include the space fingerprint)."""
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def check_space_name(name: str) -> str:
    """`name` if it is a plain space name (letters, digits, . _ -); else InputError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InputError(
            f"{name[:40]!r} cannot name a space: use letters, digits, '.', '_' or '-' "
            "(at most 120, starting with a letter or digit)."
        )
    return name


@contextlib.contextmanager
def _flock(path: Path, wait: bool, busy: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise InputError(busy) from None
            raise
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def space_lock(folder: Path) -> contextlib.AbstractContextManager[None]:
    """Hold the space's lock: one writer at a time (steps, manifest, index rebuilds).

    Two app sessions may add steps to one space at once; the lock keeps the
    read-modify-write of the manifest whole. Not re-entrant.
    """
    return _flock(Path(folder) / ".lock", True, "")


def name_lock(
    root: Path, name: str, *, wait: bool = False
) -> contextlib.AbstractContextManager[None]:
    """Hold the build lock of space `name` under `root` (waiting for it, or failing at once)."""
    check_space_name(name)
    busy = (
        f"Another build of the space '{name}' is running. Wait for it to finish, "
        "or choose another name."
    )
    return _flock(Path(root) / ".locks" / f"{name}.lock", wait, busy)


def write_manifest(folder: Path, man: dict[str, Any]) -> None:
    """Seal and write a manifest atomically."""
    man = {k: v for k, v in man.items() if k != "seal"}
    man["seal"] = seal(man)
    atomic_write_json(Path(folder) / MANIFEST, man)


@contextlib.contextmanager
def edit_manifest(folder: Path) -> Iterator[dict[str, Any]]:
    """Hold the space's lock and yield its manifest; what the block changes is written,
    resealed, when it ends without error. Files written inside the block and recorded
    with :func:`digests` stay consistent with their checksums."""
    folder = Path(folder)
    with space_lock(folder):
        man = read_manifest(folder)
        yield man
        write_manifest(folder, man)


def digests(folder: Path, rels: list[str]) -> dict[str, dict[str, Any]]:
    """{rel: {"bytes", "xxh3"}} of files inside `folder`."""
    return {rel: digest_and_trust(Path(folder) / rel) for rel in rels}


def update_manifest(folder: Path, **changes: Any) -> dict[str, Any]:
    """Merge `changes` into the manifest (dict values merge one level deep), resealed."""
    with edit_manifest(folder) as man:
        for k, v in changes.items():
            if isinstance(v, dict) and isinstance(man.get(k), dict):
                man[k] = {**man[k], **v}
            else:
                man[k] = v
    return man


def is_space_dir(folder: Path) -> bool:
    """Whether `folder` holds a complete space with a valid manifest (files not checked)."""
    try:
        read_manifest(Path(folder))
    except ExplorerError:
        return False
    return True


def write_space_files(space: Space, folder: Path, extra: Mapping[str, Any] | None = None) -> None:
    """Write the items, the vectors and a complete manifest of `space` into `folder`."""
    folder = Path(folder)
    space.items.to_parquet(folder / "items.parquet", index=False)
    np.save(folder / "vectors.npy", np.ascontiguousarray(space.vectors), allow_pickle=False)
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
        "columns": [str(c) for c in space.items.columns],
        "files": {f: file_digest(folder / f) for f in CORE_FILES},
        "steps": {},
        **dict(extra or {}),
    }
    write_manifest(folder, manifest)


def name_of_version(version: Path) -> str:
    """The space name a version folder (``.NAME.v-XXXXXXXX``) belongs to: what messages
    call it, never the hidden folder's own name."""
    hidden = Path(version).name
    if hidden.startswith(".") and ".v-" in hidden:
        return hidden[1:].rsplit(".v-", 1)[0]
    return hidden


def _exists(folder: Path) -> bool:
    return folder.is_symlink() or folder.exists()


# Stored steps (maps, clusterings, quality figures) one space keeps, each a few hundred
# bytes of its manifest.
MAX_STEPS = 1000

# A replaced version stays this long (seconds) for readers that resolved the name
# just before it was replaced.
REPLACED_GRACE_S = 60.0


def _remove_leftovers(root: Path, name: str, keep: Path | None) -> None:
    """Remove versions of `name` that the name does not point to: half-written ones
    (builds that were killed) at once, replaced ones once no reader can still be in
    them (:data:`REPLACED_GRACE_S`).

    Called under the name's build lock, so no live build owns them.
    """
    now = time.time()
    # Exactly the names this module gives `name`'s versions and links: a glob would also
    # match another space's, e.g. the versions of a space named "NAME.v-1".
    ours = re.compile(rf"\.{re.escape(name)}\.(v-(old)?|link-)[0-9a-f]{{8}}")
    for p in [p for p in root.iterdir() if ours.fullmatch(p.name)]:
        if keep is not None and p.resolve() == keep:
            continue
        if p.is_symlink():
            p.unlink(missing_ok=True)
            continue
        complete = is_space_dir(p)
        if not complete or now - p.stat().st_mtime > REPLACED_GRACE_S:
            shutil.rmtree(p, ignore_errors=True)


def _swap_in(folder: Path, version: Path) -> None:
    """Point `folder` at `version` in one atomic rename.

    The previous version stays on disk until the next build of the name removes it
    (:func:`_remove_leftovers`), so a reader that resolved the name just before the
    swap finishes reading a whole, consistent version.
    """
    root, name = folder.parent, folder.name
    if not folder.is_symlink() and folder.is_dir():  # a space from before versioned folders
        folder.rename(root / f".{name}.v-old{uuid.uuid4().hex[:8]}")
    elif not folder.is_symlink() and folder.exists():
        raise InputError(f"'{name}' exists and is not a space: choose another name.")
    link = root / f".{name}.link-{uuid.uuid4().hex[:8]}"
    os.symlink(version.name, link)
    os.replace(link, folder)


def refuse_clash(
    folder: Path, overwrite: bool, hint: str = "confirm that it should be replaced"
) -> None:
    """Raise SpaceExists when the space `folder` exists and is not to be replaced, or
    InputError for a bad name: what a long job checks before it starts, and
    :func:`new_version` again under the name's lock."""
    folder = Path(folder)
    check_space_name(folder.name)
    if _exists(folder) and not overwrite:
        raise SpaceExists(
            f"A space named '{folder.name}' already exists. Choose another name, or {hint}."
        )


@contextlib.contextmanager
def new_version(folder: Path, *, overwrite: bool = False, wait: bool = False) -> Iterator[Path]:
    """Write a new version of the space at `folder`; publish it if the block succeeds.

    Holds the name's build lock throughout. Yields a fresh hidden folder to write
    into; on success the name is pointed at it atomically (replacing the previous
    version only with `overwrite`); on any failure it is removed and nothing changes.

    Raises:
        SpaceExists: the name is taken and `overwrite` is False (checked first and
            again, under the lock, just before publishing).
        InputError: a bad name, or another build of the name is running.
    """
    check_space_name(Path(folder).name)  # before normalising: "root/.." is no name
    folder = Path(os.path.abspath(folder))
    root, name = folder.parent, check_space_name(folder.name)
    root.mkdir(parents=True, exist_ok=True)

    refuse_clash(folder, overwrite)
    with name_lock(root, name, wait=wait):
        refuse_clash(folder, overwrite)
        _remove_leftovers(root, name, folder.resolve() if folder.is_symlink() else None)
        version = root / f".{name}.v-{uuid.uuid4().hex[:8]}"
        version.mkdir()
        try:
            yield version
            refuse_clash(folder, overwrite)
            _swap_in(folder, version)
        except BaseException:
            shutil.rmtree(version, ignore_errors=True)
            raise


def save_space(
    space: Space,
    folder: Path,
    *,
    extra: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write `space` to `folder` atomically (see :func:`new_version`); returns `folder`."""
    with new_version(folder, overwrite=overwrite) as version:
        write_space_files(space, version, extra)
    return Path(os.path.abspath(folder))


def read_space(version: Path, name: str) -> Space:
    """The Space held by one version folder of the space `name`, after checking its
    manifest and its data files' checksums (once per process: ``explorer.core.manifest``).
    ``explorer.opened.handle.open_space`` opens a space by its name.

    Raises:
        IncompleteSpaceError: half-written, damaged or tampered with (the message
            names the space and what is wrong, never a server path).
    """
    real = Path(version)
    man = read_manifest(real, name)
    for rel in CORE_FILES:
        verify_file(real, rel, man["files"][rel], name)
    try:
        items = pd.read_parquet(real / "items.parquet")
        vectors = np.load(real / "vectors.npy", allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise IncompleteSpaceError(
            f"The space '{name}' cannot be read ({type(exc).__name__}). Build it again."
        ) from None
    n, dim = man["n"], man["dim"]
    if vectors.dtype != np.float32 or vectors.shape != (n, dim) or len(items) != n:
        raise IncompleteSpaceError(
            f"The space '{name}' does not match its manifest ({n:,} × {dim} expected). "
            "Build it again."
        )
    if "id" not in items.columns:
        raise IncompleteSpaceError(f"The space '{name}' has no id column. Build it again.")
    return Space(
        items=items,
        vectors=vectors,
        metric=man["metric"],
        model=man.get("model"),
        source=man.get("source", {}),
        map_rows=man.get("map_rows"),
        notes=tuple(man.get("notes", ())),
        # Taken from the (checked, sealed) manifest, so opening a large space does
        # not re-hash its vectors.
        fingerprint=man["fingerprint"],
    )


def list_spaces(root: Path) -> list[dict[str, Any]]:
    """Every space directly under `root`, complete or broken; never raises for one folder.

    Each entry: ``name``, ``folder`` (the name's path), ``ok``; a complete space adds
    its manifest's fields, a broken one ``problem`` (a sentence for the user).
    """
    root = Path(root)
    if not root.is_dir():
        return []
    out: list[dict[str, Any]] = []
    real_root = root.resolve()
    for sub in sorted(root.iterdir()):
        if sub.name.startswith(".") or not (sub.is_dir() or sub.is_symlink()):
            continue
        entry: dict[str, Any] = {"name": sub.name, "folder": str(root.absolute() / sub.name)}
        try:
            if sub.is_symlink() and sub.resolve().parent != real_root:
                raise InputError("it points outside the spaces folder")
            out.append({**read_manifest(sub), **entry, "ok": True})
        except (ExplorerError, OSError) as exc:
            problem = str(exc) if isinstance(exc, ExplorerError) else type(exc).__name__
            out.append({**entry, "ok": False, "problem": problem})
    return out


def save_step(
    folder: Path, kind: str, key: str, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]
) -> None:
    """Store a step's arrays and parameters, then record them (with checksums) in the manifest."""
    folder = Path(folder)
    base = f"steps/{kind}-{key}"
    atomic_save_npz(folder / f"{base}.npz", arrays)
    atomic_write_json(folder / f"{base}.json", dict(params))
    with edit_manifest(folder) as man:
        man["files"].update(digests(folder, [f"{base}.npz", f"{base}.json"]))
        steps = {**man.get("steps", {}), f"{kind}-{key}": dict(params)}
        # The oldest go first: a space's manifest stays far below what opening accepts.
        while len(steps) > MAX_STEPS:
            old = next(iter(steps))
            del steps[old]
            for rel in (f"steps/{old}.npz", f"steps/{old}.json"):
                man["files"].pop(rel, None)
                (folder / rel).unlink(missing_ok=True)
        man["steps"] = steps


def load_step(
    folder: Path, kind: str, key: str, name: str | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """The arrays and parameters of a stored step, or None if not stored, damaged or changed."""
    folder = Path(folder)
    name = name or folder.name
    base = f"steps/{kind}-{key}"
    try:
        man = read_manifest(folder, name)
        for rel in (f"{base}.npz", f"{base}.json"):
            verify_file(folder, rel, man["files"][rel], name)
        with np.load(folder / f"{base}.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        params = json.loads((folder / f"{base}.json").read_text())
    except (KeyError, ExplorerError, OSError, ValueError):
        return None
    return arrays, params


def has_step(folder: Path, kind: str, key: str) -> bool:
    """Whether a step's result is stored (cheap: no loading)."""
    base = Path(folder) / "steps" / f"{kind}-{key}"
    return base.with_suffix(".npz").is_file() and base.with_suffix(".json").is_file()
