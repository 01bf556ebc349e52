"""Streaming text: a file's lines one at a time, and the entries of a JSON array one at a time.

Nothing here reads a file whole, so a reader that stops after N rows holds only those rows.
Bytes that are not UTF-8 are replaced by U+FFFD and reported, so the caller can say so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from explorer.core.errors import InputError

__all__ = ["TextChunks", "iter_lines", "json_array", "_whole_chars"]

_CHUNK = 256 * 1024
_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace


def _whole_chars(data: bytes) -> int:
    """Length of the longest start of `data` that does not end inside a UTF-8 character."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: look further back for the lead
            continue
        if byte >> 5 == 0b110:
            need = 2
        elif byte >> 4 == 0b1110:
            need = 3
        elif byte >> 3 == 0b11110:
            need = 4
        else:
            need = 1
        return len(data) - back if back < need else len(data)
    return len(data)


def _decode(data: bytes, first: bool) -> tuple[str, bool]:
    """`data` as UTF-8 (a BOM dropped when `first`); True when bytes had to be replaced."""
    codec = "utf-8-sig" if first else "utf-8"
    try:
        return data.decode(codec), False
    except UnicodeDecodeError:
        return data.decode(codec, errors="replace"), True


def iter_lines(p: Path, *, max_bytes: int | None = None) -> Iterator[tuple[int, str, bool]]:
    """(line number from 1, line without its ``\\n``, bytes replaced) for each line of `p`.

    A line longer than `max_bytes` keeps its first `max_bytes` bytes (whole characters);
    the rest of it is skipped without being held in memory.
    """
    with p.open("rb") as fh:
        lineno = 0
        while True:
            raw = fh.readline(max_bytes) if max_bytes else fh.readline()
            if not raw:
                return
            lineno += 1
            if raw.endswith(b"\n"):
                raw = raw[:-1]
            elif max_bytes and len(raw) == max_bytes:
                rest = raw
                while rest and not rest.endswith(b"\n"):
                    rest = fh.readline(max_bytes)
                raw = raw[: _whole_chars(raw)]
            text, replaced = _decode(raw, lineno == 1)
            yield lineno, text, replaced


class TextChunks:
    """A file's text in pieces of about `size` bytes, each cut at a whole character.

    Attributes:
        replaced: True once any piece had bytes that are not UTF-8 (shown as U+FFFD).
    """

    def __init__(self, p: Path, size: int = _CHUNK) -> None:
        self.p = p
        self.size = size
        self.replaced = False

    def __iter__(self) -> Iterator[str]:
        first, carry = True, b""
        with self.p.open("rb") as fh:
            while True:
                data = carry + fh.read(self.size)
                if not data:
                    return
                cut = _whole_chars(data) if len(data) > len(carry) else len(data)
                data, carry = data[:cut], data[cut:]
                text, bad = _decode(data, first)
                self.replaced |= bad
                first = False
                yield text


def json_array(chunks: Iterator[str], name: str) -> Iterator[Any]:
    """The entries of the JSON array that `chunks` spell, parsed one at a time.

    Raises:
        InputError: the text is not one JSON array (naming the entry at fault).
    """
    decoder = json.JSONDecoder()
    buf, pos, eof, count = "", 0, False, 0
    expect = "["  # then "value" (or "]" first), then "," or "]"
    while True:
        space = _SPACE.match(buf, pos)
        pos = space.end() if space else pos
        if pos == len(buf) and not eof:
            buf, pos, eof = _more(chunks, buf, pos)
            continue
        ch = buf[pos : pos + 1]
        if expect == "[":
            if ch != "[":
                raise InputError(f"'{name}' does not start a JSON array with '['.")
            pos, expect = pos + 1, "first"
            continue
        if ch == "]" and expect in ("first", ","):
            return
        if expect == ",":
            if ch != ",":
                raise _bad_entry(name, count + 1, "expected ',' or ']' after the entry before")
            pos, expect = pos + 1, "value"
            continue
        try:
            value, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            if eof:
                raise _bad_entry(name, count + 1, exc.msg) from None
            buf, pos, eof = _more(chunks, buf, pos)
            continue
        if end == len(buf) and not eof:  # a number or word may go on in the next piece
            buf, pos, eof = _more(chunks, buf, pos)
            continue
        count += 1
        yield value
        pos, expect = end, ","


def _more(chunks: Iterator[str], buf: str, pos: int) -> tuple[str, int, bool]:
    """(the unread rest of `buf` plus at least as much again, 0, at the end of the text)."""
    rest = buf[pos:]
    want = max(len(rest), 1)
    added: list[str] = []
    while sum(map(len, added)) < want:
        piece = next(chunks, None)
        if piece is None:
            return rest + "".join(added), 0, True
        added.append(piece)
    return rest + "".join(added), 0, False


def _bad_entry(name: str, entry: int, why: str) -> InputError:
    """The error for entry number `entry` of a JSON array that is not valid JSON."""
    return InputError(
        f"'{name}' is not a valid JSON array: entry {entry} is not valid JSON ({why}). "
        "Save it as JSON Lines (one JSON object per line) or fix the entry."
    )
