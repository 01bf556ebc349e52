"""A space's manifest: what it holds, checked field by field, sealed, with file checksums.

The manifest is the one file that says what a space folder holds: counts, metric,
model, the parameters of every stored step, and a fast checksum (xxh3-64) of every
data file. Nothing in a folder is trusted before the manifest that names it passes
:func:`validate_manifest` and the file's checksum matches. The manifest carries a
``seal`` (xxh3 over its own canonical JSON), so a hand edit is noticed too.

A process checks each file once: it remembers what it checked with the file's identity
on disk (inode, size, modification and change times), and checks again only when those
change. Our writes replace files by renaming new ones into place, so a file that was
written again, edited or replaced is checked again; one that stayed as it was is not
read a second time (a space's data files never change once written).
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import xxhash

from explorer.core.errors import IncompleteSpaceError
from explorer.core.space import METRICS
from explorer.core.validate import is_int

__all__ = [
    "CORE_FILES",
    "MANIFEST",
    "SCHEMA_VERSION",
    "check_once",
    "digest_and_trust",
    "file_digest",
    "read_manifest",
    "seal",
    "validate_manifest",
    "verify_file",
]

SCHEMA_VERSION = 2
MANIFEST = "manifest.json"
CORE_FILES = ("items.parquet", "vectors.npy")
# The only files a manifest may name: our own data files and stored steps.
_FILE_NAME = re.compile(
    r"^(items\.parquet|vectors\.npy|thumbs\.npy|index\.bin|index\.json|index_rows\.npy"
    r"|steps/(projection|clustering|quality|names)-[0-9a-f]{12}\.(npz|json)"
    r"|tours/[a-z0-9][a-z0-9-]{0,59}\.json)$"
)
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_MAX_MANIFEST_BYTES = 16 << 20  # a manifest is small; a huge one is not ours
_CHUNK = 8 << 20
_REMEMBERED = 4096  # files (and manifests) a process remembers having checked

# (path, what was checked) → the file's identity when it passed; path → (identity, manifest).
_checked: OrderedDict[tuple[str, str], tuple[int, ...]] = OrderedDict()
_manifests: OrderedDict[str, tuple[tuple[int, ...], dict[str, Any]]] = OrderedDict()
_memo_lock = threading.Lock()


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _remember(memo: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    with _memo_lock:
        memo[key] = value
        memo.move_to_end(key)
        while len(memo) > _REMEMBERED:
            memo.popitem(last=False)


def check_once(path: Path, what: str, check: Callable[[], None]) -> None:
    """Run `check()` on the file at `path` unless this process already passed it for
    `what` (a checksum, a structure) while the file was as it is now.

    The file's identity is taken before the check, so a file changed during it is
    checked again next time. A failed check raises and is not remembered.
    """
    key = (os.path.abspath(path), what)
    ident = _identity(os.stat(path))
    if _checked.get(key) == ident:
        return
    check()
    _remember(_checked, key, ident)


def _damaged(name: str, what: str) -> IncompleteSpaceError:
    return IncompleteSpaceError(
        f"The space '{name}' cannot be opened: {what}. Build it again, or ask the "
        "operator to remove it."
    )


def file_digest(path: Path) -> dict[str, Any]:
    """{"bytes": size, "xxh3": 16 hex digits} of a file, read in 8 MB chunks."""
    h = xxhash.xxh3_64()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            h.update(block)
            size += len(block)
    return {"bytes": size, "xxh3": h.hexdigest()}


def digest_and_trust(path: Path) -> dict[str, Any]:
    """:func:`file_digest` of a file this process has just written, remembered as
    checked, so reading it back (the next figure's job) does not hash it again."""
    ident = _identity(os.stat(path))
    digest = file_digest(path)
    _remember(_checked, (os.path.abspath(path), f"xxh3:{digest['xxh3']}"), ident)
    return digest


def verify_file(folder: Path, rel: str, expected: Mapping[str, Any], name: str) -> None:
    """Raise IncompleteSpaceError unless `folder/rel` has the size and checksum expected."""
    path = folder / rel
    if not path.is_file() or path.is_symlink():
        raise _damaged(name, f"{rel} is missing")
    if path.stat().st_size != expected.get("bytes"):
        raise _damaged(name, f"{rel} is missing or was cut short")

    def checksum() -> None:
        if file_digest(path)["xxh3"] != expected.get("xxh3"):
            raise _damaged(name, f"{rel} does not match its checksum (changed or damaged)")

    check_once(path, f"xxh3:{expected.get('xxh3')}", checksum)


def seal(man: Mapping[str, Any]) -> str:
    """xxh3 of the manifest's canonical JSON, without its own seal."""
    body = {k: v for k, v in man.items() if k != "seal"}
    blob = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return str(xxhash.xxh3_64_hexdigest(blob.encode()))


def read_manifest(folder: Path, name: str | None = None) -> dict[str, Any]:
    """The validated manifest of the space in `folder`.

    Raises:
        IncompleteSpaceError: no manifest, one that is not a small JSON file, one
            that fails validation or whose seal does not match. The message names
            the space by its name (`name`, else the folder's), never a server path.
    """
    folder = Path(folder)
    name = name or folder.name  # the space's name, not its hidden version folder's
    if not folder.is_dir():
        raise IncompleteSpaceError(
            f"There is no space named '{name}' (it was removed, or is being replaced). "
            "Pick one from the list, or try again in a moment."
        )
    path = folder / MANIFEST
    try:
        if path.is_symlink() or not path.is_file():
            raise FileNotFoundError
        ident = _identity(path.stat())
        known = _manifests.get(os.path.abspath(path))
        if known is not None and known[0] == ident:
            return copy.deepcopy(known[1])  # callers may edit what they get
        if ident[2] > _MAX_MANIFEST_BYTES:
            raise _damaged(name, "its manifest.json is far too large to be ours")
        data = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise IncompleteSpaceError(
            f"The space '{name}' has no manifest.json, so it is not a complete space. "
            "Build it again."
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _damaged(name, "its manifest.json is damaged") from None
    valid = validate_manifest(data, name)
    _remember(_manifests, os.path.abspath(path), (ident, copy.deepcopy(valid)))
    return valid


def _check_files(files: object, name: str) -> None:
    if not isinstance(files, dict):
        raise _damaged(name, "its manifest lists no files")
    for rel, d in files.items():
        if not isinstance(rel, str) or not _FILE_NAME.match(rel):
            raise _damaged(name, "its manifest names a file that is not part of a space")
        if not isinstance(d, dict) or not is_int(d.get("bytes"), 0):
            raise _damaged(name, f"its manifest has no size for {rel}")
        if not isinstance(d.get("xxh3"), str) or not _HEX16.match(d["xxh3"]):
            raise _damaged(name, f"its manifest has no checksum for {rel}")
    if any(f not in files for f in CORE_FILES):
        raise _damaged(name, "its manifest does not list the items and vectors")


_OPTIONAL_TEXT = ("model", "sample", "title", "description")
_OPTIONAL_DICTS = ("source", "steps", "build", "index_params")


def validate_manifest(data: object, name: str) -> dict[str, Any]:
    """`data` if it is a well-formed, complete, sealed manifest; else IncompleteSpaceError."""
    if not isinstance(data, dict):
        raise _damaged(name, "its manifest.json is not a manifest")
    if data.get("schema") != SCHEMA_VERSION or data.get("complete") is not True:
        raise IncompleteSpaceError(
            f"The space '{name}' is not a complete space of this version (an interrupted "
            "build or an older format). Build it again."
        )
    if data.get("seal") != seal(data):
        raise _damaged(name, "its manifest.json was edited or damaged (the seal does not match)")
    checks = {
        "n": is_int(data.get("n"), 1),
        "dim": is_int(data.get("dim"), 1),
        "metric": data.get("metric") in METRICS,
        "fingerprint": isinstance(data.get("fingerprint"), str)
        and bool(_HEX16.match(data["fingerprint"])),
        "map_rows": data.get("map_rows") is None or is_int(data.get("map_rows"), 1),
        "notes": isinstance(data.get("notes", []), list)
        and all(isinstance(x, str) for x in data.get("notes", [])),
        "columns": isinstance(data.get("columns", []), list)
        and all(isinstance(x, str) for x in data.get("columns", [])),
    }
    for key in _OPTIONAL_TEXT:
        checks[key] = data.get(key) is None or isinstance(data.get(key), str)
    for key in _OPTIONAL_DICTS:
        checks[key] = isinstance(data.get(key, {}), dict)
    bad = [k for k, ok in checks.items() if not ok]
    if bad:
        raise _damaged(name, f"its manifest has a bad {', '.join(bad)}")
    _check_files(data.get("files"), name)
    return data
