"""Every read in explorer.ingest.sources is bounded: bytes, rows, decoded size, text length.

Memory is measured two ways: ``tracemalloc`` sees Python objects and numpy arrays; Arrow
allocates outside it, so Parquet reads are also measured with a proxy Arrow memory pool.
Each bound below is far under what reading the whole file takes (the "before" figures in
the comments are from the readers that parsed whole files).
"""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from explorer.core.errors import InputError
from explorer.core.limits import limits
from explorer.ingest.sources import read_source, read_table_preview

MB = 1 << 20


# --------------------------------------------------------------------------- helpers


def peak(fn: Callable[[], Any]) -> tuple[Any, int]:
    """(what `fn` returned, or the InputError it raised; peak bytes tracemalloc saw)."""
    tracemalloc.start()
    try:
        out: Any = fn()
    except InputError as exc:
        out = exc
    finally:
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return out, top


_POOLS: list[Any] = []  # kept alive: buffers made in a pool are freed through it later


@contextmanager
def arrow_pool() -> Iterator[Any]:
    """A fresh Arrow memory pool for the block; its ``max_memory()`` is the block's peak."""
    old = pa.default_memory_pool()
    pool = pa.proxy_memory_pool(old)
    _POOLS.append(pool)
    pa.set_memory_pool(pool)
    try:
        yield pool
    finally:
        pa.set_memory_pool(old)


def message(exc: Any, tmp_path: Path) -> str:
    """The InputError's message, checked to name no server folder."""
    assert isinstance(exc, InputError), exc
    msg = str(exc)
    assert str(tmp_path) not in msg and str(tmp_path.resolve()) not in msg
    return msg


def write(p: Path, text: str) -> Path:
    p.write_text(text, encoding="utf-8")
    return p


def many_lines(line: Callable[[int], str], size: int, start: int = 0) -> str:
    """About `size` bytes of lines ``line(start)``, ``line(start + 1)``, ..."""
    out: list[str] = []
    total, i = 0, start
    while total < size:
        s = line(i) + "\n"
        out.append(s)
        total += len(s)
        i += 1
    return "".join(out)


# --------------------------------------------------------------------------- previews

# A 2 MB file of short lines: parsing it whole peaked at 20+ MB (txt, JSONL).
PREVIEW_BOUND = 2 * MB


@pytest.mark.parametrize("fmt", ["txt", "jsonl", "csv"])
def test_preview_memory_does_not_grow_with_the_file(tmp_path: Path, fmt: str) -> None:
    line = {
        "txt": lambda i: f"w{i}",
        "jsonl": lambda i: json.dumps({"text": f"t{i}"}),
        "csv": lambda i: f"t{i},{i}",
    }[fmt]
    head = "body,n\n" if fmt == "csv" else ""
    small = write(tmp_path / f"small.{fmt}", head + "".join(line(i) + "\n" for i in range(30)))
    big = write(tmp_path / f"big.{fmt}", head + many_lines(line, 2 * MB))
    read_table_preview(small, n=20)  # warm up: lazy imports are not the preview's memory
    got, top = peak(lambda: read_table_preview(big, n=20))
    assert isinstance(got, pd.DataFrame) and len(got) == 20
    assert top < PREVIEW_BOUND, f"{fmt} preview peaked at {top / MB:.1f} MB"


def test_preview_rows_are_capped_by_the_operator(tmp_path: Path, monkeypatch: Any) -> None:
    p = write(tmp_path / "a.csv", "body\n" + "".join(f"t{i}\n" for i in range(50)))
    monkeypatch.setenv("EXPLORER_PREVIEW_ROWS", "7")
    assert len(read_table_preview(p)) == 7 and len(read_table_preview(p, n=30)) == 7


# --------------------------------------------------------------------------- first N rows

# "First 50 rows" of a 2 MB file; reading it whole peaked at 20+ MB (before).
LIMIT_BOUND = 2 * MB


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "txt"])
def test_first_rows_read_streams(tmp_path: Path, fmt: str) -> None:
    # Row 100 onwards is malformed: a streaming read of 50 rows never sees it.
    line, head, bad = {
        "csv": (lambda i: f"text {i},{i}", "body,n\n", "broken,1,2,3\n"),
        "jsonl": (lambda i: json.dumps({"text": f"text {i}"}), "", "{broken\n"),
        "txt": (lambda i: f"text {i}", "", ""),
    }[fmt]
    first = "".join(line(i) + "\n" for i in range(100))
    big = write(tmp_path / f"big.{fmt}", head + first + bad + many_lines(line, 2 * MB, 100))
    read_source(write(tmp_path / f"w.{fmt}", head + line(0) + "\n"))  # warm up
    got, top = peak(lambda: read_source(big, limit=50))
    assert not isinstance(got, InputError), got
    assert got.items["text"].tolist() == [f"text {i}" for i in range(50)]
    assert top < LIMIT_BOUND, f"{fmt} limit=50 peaked at {top / MB:.1f} MB"
    if bad:  # the whole file does hold the malformed row
        with pytest.raises(InputError) as err:
            read_source(big)
        message(err.value, tmp_path)


def test_first_rows_of_parquet_stream(tmp_path: Path) -> None:
    p = tmp_path / "big.parquet"
    n = 400_000
    pd.DataFrame({"text": [f"text number {i}" for i in range(n)], "k": range(n)}).to_parquet(
        p, row_group_size=10_000
    )
    read_source(p, limit=5)  # warm up
    with arrow_pool() as pool:
        got, top = peak(lambda: read_source(p, limit=50))
    assert got.items["text"].tolist() == [f"text number {i}" for i in range(50)]
    # Reading it whole took ~17 MB of Arrow memory (before); now one row group's worth
    # (~1.5 MB), the same for any number of row groups.
    assert pool.max_memory() < 3 * MB, f"Arrow peak {pool.max_memory() / MB:.1f} MB"
    assert top < 2 * MB, f"tracemalloc peak {top / MB:.1f} MB"


def test_rows_without_text_do_not_count_towards_the_limit(tmp_path: Path) -> None:
    # Streaming reads `limit` rows; rows without text are skipped, so it reads on for more.
    body = "t0,0\n" + ",0\n" * 4 + "".join(f"t{i},{i}\n" for i in range(1, 9))
    got = read_source(write(tmp_path / "a.csv", "body,n\n" + body), limit=3)
    assert got.items["text"].tolist() == ["t0", "t1", "t2"]
    assert any("Skipped 4 row(s) with empty text" in n for n in got.notes)


# --------------------------------------------------------------------------- decoded size


def test_parquet_of_one_repeated_number_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: Any
) -> None:
    p = tmp_path / "zeros.parquet"
    pd.DataFrame({"x": np.zeros(2_500_000, dtype=np.int64)}).to_parquet(p)
    assert p.stat().st_size < 50_000  # 20 MB of numbers in a few KB
    monkeypatch.setenv("EXPLORER_MAX_DECODED_BYTES", str(MB))
    read_source(write(tmp_path / "w.csv", "a\nb\n"))  # warm up
    with arrow_pool() as pool:
        got, top = peak(lambda: read_source(p))
    msg = message(got, tmp_path)
    assert "EXPLORER_MAX_DECODED_BYTES" in msg and "'zeros.parquet'" in msg
    # Decoding it whole took 40 MB of Arrow memory (before).
    assert pool.max_memory() < MB and top < MB
    with arrow_pool() as pool:
        got, _ = peak(lambda: read_table_preview(p, n=20))  # a preview reads a little
    assert isinstance(got, pd.DataFrame) and len(got) == 20


def test_parquet_of_one_repeated_string_stops_at_the_limit(
    tmp_path: Path, monkeypatch: Any
) -> None:
    p = tmp_path / "same.parquet"
    pd.DataFrame({"text": ["x" * 1000] * 50_000}).to_parquet(p)  # 50 MB of text
    assert p.stat().st_size < 50_000
    monkeypatch.setenv("EXPLORER_MAX_DECODED_BYTES", str(MB))
    with arrow_pool() as pool:
        got, top = peak(lambda: read_source(p))
    assert "EXPLORER_MAX_DECODED_BYTES" in message(got, tmp_path)
    # Decoding it whole took 50+ MB (before); the text is counted before it is expanded.
    assert pool.max_memory() < 2 * MB and top < 2 * MB


def _npz_bytes(arr: np.ndarray, name: str = "vectors.npy") -> bytes:
    """A deflated .npz (zip) holding `arr`, written with zipfile (no zip64 extras)."""
    npy = io.BytesIO()
    np.save(npy, arr)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, npy.getvalue())
    return out.getvalue()


def test_npz_deflate_bomb_is_refused_without_inflating_it(tmp_path: Path, monkeypatch: Any) -> None:
    p = tmp_path / "bomb.npz"
    np.savez_compressed(p, vectors=np.zeros((50 * MB // 32, 4), dtype=np.float64))  # 50 MB
    assert p.stat().st_size < MB
    monkeypatch.setenv("EXPLORER_MAX_DECODED_BYTES", str(10 * MB))
    got, top = peak(lambda: read_source(p))
    msg = message(got, tmp_path)
    assert "EXPLORER_MAX_DECODED_BYTES" in msg and "bomb.npz" in msg
    assert top < 2 * MB, f"peaked at {top / MB:.1f} MB (inflating it is 50 MB)"


@pytest.mark.parametrize("claimed", [1000, 0xFFFF_FFFE])
def test_npz_whose_zip_claims_another_size(tmp_path: Path, monkeypatch: Any, claimed: int) -> None:
    # The zip's headers say the member is `claimed` bytes; it inflates to 50 MB.
    data = bytearray(_npz_bytes(np.zeros((50 * MB // 32, 4), dtype=np.float64)))
    local, central = 0, data.rindex(b"PK\x01\x02")
    assert data[local : local + 4] == b"PK\x03\x04"
    data[local + 22 : local + 26] = claimed.to_bytes(4, "little")
    data[central + 24 : central + 28] = claimed.to_bytes(4, "little")
    p = tmp_path / "forged.npz"
    p.write_bytes(bytes(data))
    assert zipfile.ZipFile(p).getinfo("vectors.npy").file_size == claimed
    monkeypatch.setenv("EXPLORER_MAX_DECODED_BYTES", str(10 * MB))
    got, top = peak(lambda: read_source(p))
    msg = message(got, tmp_path)
    if claimed < MB:  # zipfile stops at the claimed size: the array is cut short
        assert "damaged or truncated" in msg and "np.savez" in msg
    else:  # a large claim admits nothing: the array's own header is over the limit
        assert "EXPLORER_MAX_DECODED_BYTES" in msg
    assert top < 2 * MB, f"peaked at {top / MB:.1f} MB (inflating it is 50 MB)"


def test_npz_member_is_read_no_further_than_its_header_declares(tmp_path: Path) -> None:
    # A (10, 4) array followed by 50 MB more in the same member: only the array is inflated.
    npy = io.BytesIO()
    np.save(npy, np.ones((10, 4), dtype=np.float32))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("vectors.npy", npy.getvalue() + bytes(50 * MB))
    p = tmp_path / "padded.npz"
    p.write_bytes(out.getvalue())
    got, top = peak(lambda: read_source(p))
    assert got.vectors.shape == (10, 4) and top < 2 * MB


def test_npz_with_a_long_list_of_members_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "many.npz"
    npy = io.BytesIO()
    np.save(npy, np.ones((2, 2), dtype=np.float32))
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("vectors.npy", npy.getvalue())
        for i in range(10_001):
            zf.writestr(f"x{i}.npy", b"")
    with pytest.raises(InputError) as err:
        read_source(p)
    assert "10,002 arrays" in message(err.value, tmp_path)


# --------------------------------------------------------------------------- bytes and rows


def test_file_over_the_size_limit_is_refused_before_reading(
    tmp_path: Path, monkeypatch: Any
) -> None:
    pq = tmp_path / "big.parquet"
    pq.write_bytes(b"not parquet at all " * 300)  # reading it would fail differently
    txt = write(tmp_path / "big.txt", "a line\n" * 1000)
    monkeypatch.setenv("EXPLORER_MAX_FILE_BYTES", "1000")

    def nothing_may_open(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", nothing_may_open)
    monkeypatch.setattr(Path, "read_bytes", nothing_may_open)
    for call in (
        lambda: read_source(pq),
        lambda: read_table_preview(pq),
        lambda: read_source(txt, limit=1),
        lambda: read_table_preview(txt),
    ):
        with pytest.raises(InputError) as err:
            call()
        msg = message(err.value, tmp_path)
        assert "EXPLORER_MAX_FILE_BYTES" in msg and "1,000" in msg


@pytest.mark.parametrize("fmt", ["csv", "tsv", "txt", "jsonl", "parquet", "glove", "npy"])
def test_more_rows_than_the_limit_need_first_n_rows(
    tmp_path: Path, monkeypatch: Any, fmt: str
) -> None:
    n = 150
    p = tmp_path / f"a.{'txt' if fmt == 'glove' else fmt}"
    if fmt == "parquet":
        pd.DataFrame({"text": [f"t{i}" for i in range(n)]}).to_parquet(p, row_group_size=40)
    elif fmt == "npy":
        np.save(p, np.ones((n, 3), dtype=np.float32))
    else:
        row = {
            "csv": lambda i: f"t{i},{i}",
            "tsv": lambda i: f"t{i}\t{i}",
            "txt": lambda i: f"t{i}",
            "jsonl": lambda i: json.dumps({"text": f"t{i}"}),
            "glove": lambda i: f"w{i} 0.1 0.2 0.3",
        }[fmt]
        head = {"csv": "body,n\n", "tsv": "body\tn\n"}.get(fmt, "")
        write(p, head + "".join(row(i) + "\n" for i in range(n)))
    monkeypatch.setenv("EXPLORER_MAX_ROWS", "100")
    with pytest.raises(InputError) as err:
        read_source(p)
    msg = message(err.value, tmp_path)
    assert "more than 100 rows" in msg and "EXPLORER_MAX_ROWS" in msg and "first N rows" in msg
    assert len(read_source(p, limit=50).items) == 50
    with pytest.raises(InputError, match="EXPLORER_MAX_ROWS"):
        read_source(p, limit=120)  # asking for more than the limit allows
    monkeypatch.setenv("EXPLORER_MAX_ROWS", str(n))
    assert len(read_source(p).items) == n  # exactly at the limit is fine


# --------------------------------------------------------------------------- text length


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "txt"])
def test_a_200k_character_text_is_cut_with_a_note(tmp_path: Path, fmt: str) -> None:
    long = "word " * 40_000  # 200,000 characters
    rows = [long, "short"]
    if fmt == "csv":
        p = write(tmp_path / "a.csv", "body\n" + "".join(f"{r}\n" for r in rows))
    elif fmt == "jsonl":
        p = write(tmp_path / "a.jsonl", "".join(json.dumps({"body": r}) + "\n" for r in rows))
    else:
        p = write(tmp_path / "a.txt", "".join(f"{r}\n" for r in rows))
    most = limits().max_text_chars
    got = read_source(p)
    texts = got.items["text"].tolist()
    assert texts[0] == long[:most] and texts[1] == "short"
    notes = [n for n in got.notes if "EXPLORER_MAX_TEXT_CHARS" in n]
    assert len(notes) == 1 and "Cut 1 text(s)" in notes[0] and f"{most:,}" in notes[0]
    assert len(read_table_preview(p)) == 2


def test_text_limit_is_the_operators(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("EXPLORER_MAX_TEXT_CHARS", "10")
    p = write(tmp_path / "a.txt", "a" * 25 + "\n" + "b" * 30 + "\nshort\n")
    got = read_source(p)
    assert got.items["text"].tolist() == ["a" * 10, "b" * 10, "short"]
    assert any("Cut 2 text(s) longer than 10 characters" in n for n in got.notes)


# --------------------------------------------------------------------------- messages


def test_library_errors_lose_their_server_folders(tmp_path: Path, monkeypatch: Any) -> None:
    p = tmp_path / "v.npy"
    np.save(p, np.ones((2, 2), dtype=np.float32))

    def fails(fh: Any) -> Any:
        raise ValueError(f"cannot read {p}: it is damaged")

    monkeypatch.setattr(np.lib.format, "read_magic", fails)
    with pytest.raises(InputError) as err:
        read_source(p)
    assert "cannot read v.npy" in message(err.value, tmp_path)
