"""The opened space: one handle per version of a saved space, passed instead of folders.

:func:`open_space` resolves a space's name to the version folder it points at, checks
that version's manifest and files once, and returns an :class:`OpenedSpace`: the
verified manifest, the :class:`~explorer.core.space.Space`, the search index (opened on
first use) and the version's stored steps and thumbnails. A version's data never
changes once written (steps are only added, each under a new key), so a process checks
a version once and trusts it while its files stay as they were checked
(``explorer.core.manifest`` keeps the record); a rebuilt space is another version and
another handle.

A handle can also hold a space that lives only in memory (:meth:`OpenedSpace.of`): the
same engine calls then compute without storing anything.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from explorer.core.errors import ExplorerError, InputError
from explorer.core.manifest import read_manifest, verify_file
from explorer.core.space import Space
from explorer.core.store import has_step, load_step, read_space, save_step, step_key
from explorer.index.hnsw import IndexUnavailable, VectorIndex, open_index

__all__ = ["THUMBS", "OpenedSpace", "as_opened", "open_space", "open_version", "resolve"]

THUMBS = "thumbs.npy"


class OpenedSpace:
    """One version of a space, opened once (or a space held in memory).

    Attributes:
        space: the verified Space.
        name: the space's name as its users know it (never a hidden version folder).
        folder: the name's path in the spaces folder (None in memory).
        version: the version folder this handle reads and adds steps to (None in memory).
    """

    def __init__(
        self,
        space: Space,
        *,
        name: str = "",
        folder: Path | None = None,
        version: Path | None = None,
        index: VectorIndex | None = None,
    ) -> None:
        self.space = space
        self.name = name
        self.folder = folder
        self.version = version
        self._index = index
        self._thumbs: np.ndarray | None = None
        self._thumbs_read = False
        self._lock = threading.Lock()

    @classmethod
    def of(cls, space: Space, index: VectorIndex | None = None) -> OpenedSpace:
        """A handle on `space` held in memory: steps are computed, never stored."""
        return cls(space, name=str(space.source.get("title") or "space"), index=index)

    @classmethod
    def just_saved(
        cls, space: Space, folder: Path, index: VectorIndex | None = None
    ) -> OpenedSpace:
        """A handle on the space a build has just saved at `folder` (its data already in
        memory, so nothing is read or checked again)."""
        folder = Path(os.path.abspath(folder))
        return cls(space, name=folder.name, folder=folder, version=folder.resolve(), index=index)

    @property
    def stored(self) -> bool:
        """Whether this handle reads a saved version (and stores the steps it makes)."""
        return self.version is not None

    @property
    def key(self) -> str:
        """What this handle's content is known by in caches and job keys: the version
        folder and the space's fingerprint (in memory: the fingerprint alone)."""
        return f"{self.version or 'memory'}:{self.space.fingerprint}"

    def __repr__(self) -> str:
        return f"OpenedSpace({self.name!r}, {self.space.n} × {self.space.dim})"

    # --------------------------------------------------------------- what the version holds
    def manifest(self) -> dict[str, Any]:
        """The version's manifest as it is now (steps added since opening included)."""
        if self.version is None:
            raise InputError(f"The space '{self.name}' is not saved, so it has no manifest.")
        return read_manifest(self.version, self.name)

    @property
    def index(self) -> VectorIndex:
        """The search index, opened on first use (checked once per process).

        Raises:
            IndexUnavailable: a saved space has no usable index (rebuild it).
            InputError: a space held in memory was given no index.
        """
        if self._index is None and self.version is not None:
            with self._lock:
                if self._index is None:
                    # A failure is not kept: once the index is rebuilt, it opens.
                    self._index = open_index(self.version, self.space, self.name)
        if self._index is None:
            raise InputError(f"The space '{self.name}' has no search index.")
        return self._index

    @property
    def index_if_any(self) -> VectorIndex | None:
        """:attr:`index`, or None when there is no usable one: the steps then search a
        temporary index of the rows they need."""
        try:
            return self.index
        except (IndexUnavailable, InputError):
            return None

    @property
    def thumbnails(self) -> np.ndarray | None:
        """The (n, s, s, 3) uint8 thumbnails of an image space (memory-mapped, checked
        against the manifest once), or None; read once per handle."""
        if not self._thumbs_read:
            with self._lock:
                if not self._thumbs_read:
                    self._thumbs = self._read_thumbnails()
                    self._thumbs_read = True
        return self._thumbs

    def _read_thumbnails(self) -> np.ndarray | None:
        if self.version is None:
            return None
        files = self.manifest().get("files") or {}
        if THUMBS not in files:
            return None
        verify_file(self.version, THUMBS, files[THUMBS], self.name)
        arr = np.load(self.version / THUMBS, mmap_mode="r", allow_pickle=False)
        if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[3] != 3:
            return None
        return arr

    # ------------------------------------------------------------------------- stored steps
    def step_key(self, params: Mapping[str, Any]) -> str:
        """The key of a step of this space made with `params` (a JSON-able dict)."""
        space = self.space
        return step_key({"fingerprint": space.fingerprint, "n_map": space.n_map, **params})

    def job_key(self, kind: str, params: Mapping[str, Any]) -> str:
        """The key of a job that makes a `kind` step of this version with `params`: the
        one policy for every job. A finished job is not run again under its key, so the
        key names the version (a rebuilt or another space of the same content is another
        job) as well as the content and the parameters."""
        blob = json.dumps(dict(params), sort_keys=True, default=str)
        return f"{kind}:{self.key}:{self.space.n_map}:{blob}"

    def has_step(self, kind: str, params: Mapping[str, Any]) -> bool:
        """Whether the step is stored (cheap: nothing is read)."""
        if self.version is None:
            return False
        return has_step(self.version, kind, self.step_key(params))

    def load_step(
        self, kind: str, params: Mapping[str, Any]
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """The stored arrays and record of the step, or None (never stored, or damaged)."""
        if self.version is None:
            return None
        return load_step(self.version, kind, self.step_key(params), self.name)

    def save_step(
        self,
        kind: str,
        params: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        meta: Mapping[str, Any],
    ) -> None:
        """Store a step's arrays and record (no-op for a space in memory)."""
        if self.version is not None:
            save_step(self.version, kind, self.step_key(params), arrays, meta)

    def is_current(self) -> bool:
        """Whether the space's name still points at this version (False once rebuilt)."""
        if self.folder is None or self.version is None:
            return True
        try:
            return self.folder.resolve() == self.version
        except OSError:
            return False


def as_opened(space: Space | OpenedSpace) -> OpenedSpace:
    """`space` as a handle: a handle passes through; a bare Space is held in memory."""
    return space if isinstance(space, OpenedSpace) else OpenedSpace.of(space)


def resolve(folder: str | os.PathLike[str]) -> tuple[str, Path]:
    """(the space's name, the version folder its name points at now).

    Raises:
        InputError: there is no space of that name.
    """
    folder = Path(folder)
    name = folder.name
    if not folder.is_dir():
        raise InputError(f"There is no space named '{name}'. Pick one from the list.")
    return name, folder.resolve()


def open_version(version: Path, name: str, folder: Path | None = None) -> OpenedSpace:
    """Open one version folder of the space `name` (checked once per process).

    Raises:
        IncompleteSpaceError: half-written, damaged or tampered with (named by `name`).
    """
    return OpenedSpace(read_space(version, name), name=name, folder=folder, version=version)


def open_space(folder: str | os.PathLike[str]) -> OpenedSpace:
    """Open the space at `folder` (its name) as it is now.

    Raises:
        InputError: no space there.
        IncompleteSpaceError: half-written, damaged or tampered with (the message names
            the space and what is wrong, never a server path).
    """
    name, version = resolve(folder)
    try:
        return open_version(version, name, Path(os.path.abspath(folder)))
    except FileNotFoundError:  # replaced between resolving and reading
        raise ExplorerError(f"The space '{name}' was replaced just now; try again.") from None
