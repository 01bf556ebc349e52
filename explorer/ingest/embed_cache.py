"""The content-hash embedding cache: vectors on disk by (model identity, text hash).

A text is never embedded twice by the same model at the same precision: its vector
and whether it was truncated are kept in one SQLite file under the cache folder. The
file stays within the operator's EXPLORER_EMBED_CACHE_BYTES: the oldest entries go first.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from explorer.core.limits import limits

__all__ = ["EmbeddingCache", "default_cache_dir"]

_ROW_BYTES = 80  # a row's bytes besides its vector: keys, flags, index entries (about)


def default_cache_dir() -> Path:
    """The cache folder: ``$EXPLORER_EMBED_CACHE``, else ``.embed_cache`` in the cwd."""
    return Path(os.environ.get("EXPLORER_EMBED_CACHE", Path.cwd() / ".embed_cache"))


class EmbeddingCache:
    """Vectors by (model identity, sha1 of text) in one SQLite file.

    SQLite gives atomic, concurrent-safe writes without pickling anything. A second
    table records whether each text was truncated, so cached texts are never
    tokenised again; it is separate so that caches written before it stay readable
    and writable by older versions. Every put keeps the pages in use within
    ``limits().embed_cache_bytes``, deleting the oldest rows (by rowid: each write of a
    row gives it a new one) in the same transaction.
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
        """The text's cache key: the 20-byte sha1 of its UTF-8."""
        return hashlib.sha1(text.encode("utf-8", "replace")).digest()

    def get(self, model: str, keys: Sequence[bytes]) -> dict[bytes, tuple[np.ndarray, bool | None]]:
        """(vector, truncated or None if unknown) of those text `keys` that are cached.

        Each vector is a (d,) float32 array, read-only (a view of the stored bytes).
        """
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
        """Store (n, d) vectors (as float32) and n truncation flags in one transaction.

        The oldest rows are deleted to make room, so that the cache stays within its size
        limit (rows of a put larger than the whole limit do not all stay).
        """
        vectors = np.asarray(vectors, np.float32)
        rows = [
            (model, k, int(v.shape[0]), v.tobytes()) for k, v in zip(keys, vectors, strict=True)
        ]
        cap = limits().embed_cache_bytes
        incoming = sum(len(r[3]) + _ROW_BYTES for r in rows)
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")  # size check and deletes see no other writer
            self._shrink(con, cap - incoming)  # room first, so that the file need not grow
            con.executemany(
                "INSERT OR REPLACE INTO vec (model, h, dim, v) VALUES (?, ?, ?, ?)", rows
            )
            self._put_truncated(con, model, keys, truncated)
            self._shrink(con, cap)

    @staticmethod
    def used_bytes(con: sqlite3.Connection) -> int:
        """Bytes of the database file's pages in use (free pages are reused before it grows)."""
        page = con.execute("PRAGMA page_size").fetchone()[0]
        count = con.execute("PRAGMA page_count").fetchone()[0]
        free = con.execute("PRAGMA freelist_count").fetchone()[0]
        return int((count - free) * page)

    @classmethod
    def _shrink(cls, con: sqlite3.Connection, cap: int) -> None:
        """Delete the oldest rows until the pages in use are at most `cap` bytes."""
        while (excess := cls.used_bytes(con) - cap) > 0:
            rows = con.execute(
                "SELECT rowid, model, h, length(v) FROM vec ORDER BY rowid LIMIT 1024"
            ).fetchall()
            if not rows:
                return
            gone: list[tuple[int, str, bytes]] = []
            freed = 0
            for rowid, model, h, n in rows:
                gone.append((rowid, model, h))
                freed += (n or 0) + _ROW_BYTES
                if freed >= excess:
                    break
            con.executemany("DELETE FROM vec WHERE rowid = ?", [(r,) for r, _, _ in gone])
            con.executemany(
                "DELETE FROM trunc WHERE model = ? AND h = ?", [(m, h) for _, m, h in gone]
            )

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
