"""Word-vector files: word2vec text and binary, GloVe, fastText ``.vec``.

gensim reads the binary format (its pickle-based ``load`` is never used); text formats are
read here line by line, so one bad line is named instead of failing somewhere in a parser.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from explorer.core.errors import InputError
from explorer.ingest.sources.bounds import check_rows, error_text, row_cap
from explorer.ingest.sources.common import REPLACEMENT, no_rows

__all__ = ["read_words"]


def read_words(
    p: Path, fmt: str, limit: int | None, notes: list[str]
) -> tuple[list[str], np.ndarray]:
    """(words, (n, d) float32) from word2vec text/binary, GloVe or fastText .vec."""
    if fmt == "word2vec-bin":
        words, vectors = _read_word2vec_bin(p, limit, notes)
    else:
        words, vectors = _read_word_text(p, fmt, limit, notes)
    bad = sum(REPLACEMENT in w for w in words)
    if bad:
        notes.append(
            f"'{p.name}' is not valid UTF-8: {bad} row(s) decoded with replacement "
            f"(unreadable bytes show as '{REPLACEMENT}')."
        )
    return words, vectors


def _read_word2vec_bin(
    p: Path, limit: int | None, notes: list[str]
) -> tuple[list[str], np.ndarray]:
    """(words, (n, d) float32) of a word2vec binary file, the first `limit` words."""
    # gensim's binary reader is robust and streams; its pickle-based `.load` is never used.
    from gensim.models import KeyedVectors

    # gensim allocates count × dim up front: check the header against the file size first,
    # so that a hostile or damaged header cannot ask for terabytes.
    with p.open("rb") as fh:
        head = fh.readline(256).decode("utf-8", errors="replace").split()
    if len(head) != 2 or not all(h.isdigit() for h in head) or int(head[1]) == 0:
        raise InputError(
            f"'{p.name}' is not a word2vec binary file: its first line must be 'count dim' "
            f"(got {' '.join(head)[:40]!r}). For text vectors use .txt or .vec."
        )
    count, dim = int(head[0]), int(head[1])
    wanted = count if limit is None else min(count, limit)
    if wanted * dim * 4 > p.stat().st_size:
        raise InputError(
            f"'{p.name}' announces {count} words of dimension {dim}, more than its "
            f"{p.stat().st_size} bytes can hold: the file is damaged or truncated."
        )
    check_rows(wanted, p.name)
    try:
        kv = KeyedVectors.load_word2vec_format(
            str(p), binary=True, limit=limit, unicode_errors="replace"
        )
    except (ValueError, EOFError, UnicodeDecodeError, IndexError, AssertionError) as exc:
        raise InputError(
            f"'{p.name}' is not a readable word2vec binary file "
            f"({type(exc).__name__}: {error_text(exc, p)}). "
            "It must start with a 'count dim' line; for text vectors use .txt or .vec."
        ) from None
    keys = list(kv.index_to_key)
    keep = [i for i, k in enumerate(keys) if k is not None]
    if len(keep) != len(keys):  # gensim leaves a None slot for each repeated word
        notes.append(
            f"Skipped {len(keys) - len(keep)} repeated word(s) in '{p.name}' "
            "(kept the first of each)."
        )
    words = [str(keys[i]) for i in keep]
    if not words:
        raise no_rows(p.name)
    return words, np.ascontiguousarray(kv.vectors[keep], dtype=np.float32)


def _read_word_text(
    p: Path, fmt: str, limit: int | None, notes: list[str]
) -> tuple[list[str], np.ndarray]:
    """Text word vectors: ``word v1 v2 ...`` per line, after an optional ``count dim`` line."""
    words: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    declared: int | None = None
    dim: int | None = None
    dups = skipped = 0
    bad: list[tuple[int, str, int]] = []
    first = True
    cap = row_cap(limit)
    with p.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.decode("utf-8", errors="replace").rstrip()  # bad bytes become U+FFFD
            if first:
                line = line.lstrip("\ufeff")
            if not line:
                continue
            if first:
                first = False
                head = _header(line, p.name, fmt, notes)
                if head is not None:
                    declared, dim = head
                    continue
            parts = line.split(" ")
            word, nums = parts[0], [x for x in parts[1:] if x]
            if not word:
                skipped += 1
                continue
            if dim is None:
                dim = len(nums)
            if len(nums) != dim or dim == 0:
                bad.append((lineno, word, len(nums)))
                if len(bad) >= 50:
                    break
                continue
            if bad:
                continue  # keep scanning only to name more offending lines
            try:
                vec = np.asarray(nums, dtype=np.float32)
            except ValueError:
                raise InputError(
                    f"Line {lineno} of '{p.name}' (word {word!r}) holds a value that is not a "
                    "number. Each line must be a word followed by its numbers."
                ) from None
            if word in seen:
                dups += 1
                continue
            seen.add(word)
            words.append(word)
            rows.append(vec)
            if len(words) >= cap:
                break
    if bad:
        raise _unequal_lengths(p.name, dim, declared is not None, bad)
    check_rows(len(words), p.name)
    if not words:
        raise no_rows(p.name)
    _count_notes(p.name, notes, len(words), dups, skipped, declared if limit is None else None)
    return words, np.ascontiguousarray(np.stack(rows), dtype=np.float32)


def _header(line: str, name: str, fmt: str, notes: list[str]) -> tuple[int, int] | None:
    """(count, dim) when the first line is a ``count dim`` header, else None.

    Either way a note says when the file's layout differs from what `fmt` expects.
    """
    head = line.split()
    if len(head) == 2 and all(h.isdigit() for h in head):
        if fmt == "glove":
            notes.append(
                f"'{name}' starts with a 'count dim' header line, so it was read as word2vec text."
            )
        return int(head[0]), int(head[1])
    if fmt in ("word2vec", "fasttext"):
        notes.append(
            f"'{name}' has no 'count dim' header line; read it as GloVe "
            "(one word and its numbers per line)."
        )
    return None


def _unequal_lengths(
    name: str, dim: int | None, from_header: bool, bad: list[tuple[int, str, int]]
) -> InputError:
    """The error naming lines whose count of numbers differs: (line, word, count) each."""
    shown = ", ".join(f"line {ln} {w!r} ({k})" for ln, w, k in bad[:8])
    src = " (from the header)" if from_header else " (from the first line)"
    return InputError(
        f"Word vectors in '{name}' have unequal lengths: expected {dim} numbers per word"
        f"{src}, but {len(bad)}{'+' if len(bad) >= 50 else ''} line(s) differ: {shown}. "
        "Each line must be a word followed by the same number of values."
    )


def _count_notes(
    name: str, notes: list[str], kept: int, dups: int, skipped: int, declared: int | None
) -> None:
    """Notes on skipped lines, repeated words, and a header count that does not add up.

    `declared` is the header's word count, or None when there was none or a limit cut
    the reading short (then the counts cannot be compared).
    """
    if skipped:
        notes.append(f"Skipped {skipped} line(s) with no word in '{name}'.")
    if dups:
        notes.append(f"Skipped {dups} repeated word(s) in '{name}' (kept the first of each).")
    if declared is not None and declared != kept + dups + skipped:
        notes.append(
            f"The header of '{name}' announces {declared} words, but it holds "
            f"{kept + dups + skipped}."
        )
