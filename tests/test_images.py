"""Image collections (folder, zip, npy) read safely, and captions matched to them."""

from __future__ import annotations

import base64
import io
import re
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer.core.errors import InputError
from explorer.ingest.images import ImageSet, read_captions, read_images
from explorer.ingest.thumbs import thumbnail_uri


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG of a few bytes whose header claims width×height 1-bit pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _grey() -> Image.Image:
    return Image.fromarray(np.arange(30 * 30, dtype=np.uint8).reshape(30, 30) % 200 + 20)


def _centre_red() -> Image.Image:
    """40×20: blue in the outer 10 columns each side, red in the centre square."""
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :, 2] = 255
    arr[:, 10:30] = (255, 0, 0)
    return Image.fromarray(arr)


def _files() -> dict[str, bytes]:
    return {
        "c.png": _png(_centre_red()),
        "a.jpg": _jpeg(Image.new("RGB", (16, 24), (0, 200, 0))),
        "b/grey.png": _png(_grey()),
        "notes.txt": b"not an image",
        ".DS_Store": b"\x00\x01",
    }


def _folder(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in files.items():
            zf.writestr(rel, data)
    return buf.getvalue()


def test_folder_reads_pngs_and_jpegs_in_name_order_and_notes_other_files(tmp_path: Path) -> None:
    images = read_images(_folder(tmp_path / "pics", _files()), name="pics")
    assert images.names == ["a.jpg", "b/grey.png", "c.png"]
    assert len(images) == 3
    assert any("notes.txt" in n and "not PNG/JPEG" in n for n in images.notes)
    assert not any("DS_Store" in n for n in images.notes)  # hidden files pass unmentioned
    px = images.pixels(28)
    assert px.shape == (3, 28, 28, 3) and px.dtype == np.uint8
    # c.png is centre-cropped to its red square before resizing: no blue survives.
    assert (px[2, :, :, 0] > 250).all() and (px[2, :, :, 2] < 5).all()
    assert abs(int(px[0, 14, 14, 1]) - 200) < 8  # the green JPEG
    grey_only = read_images(_folder(tmp_path / "grey", {"g.png": _png(_grey())}))
    assert grey_only.pixels(28).shape == (1, 28, 28, 1)
    assert grey_only.thumbnails(16).shape == (1, 16, 16, 3)
    assert grey_only.pixels(30, 1)[0, :, :, 0].tolist() == np.asarray(_grey()).tolist()
    [pic] = images.pil([2], max_side=8)
    assert pic.mode == "RGB" and max(pic.size) == 8


def test_zip_bytes_read_like_the_folder(tmp_path: Path) -> None:
    files = _files()
    from_folder = read_images(_folder(tmp_path / "pics", files))
    zipped = _zip({**files, "__MACOSX/._c.png": b"junk", "b/": b""})
    from_zip = read_images(zipped, name="pics.zip")
    assert from_zip.names == from_folder.names
    assert np.array_equal(from_zip.pixels(20), from_folder.pixels(20))
    assert not any("MACOSX" in n for n in from_zip.notes)
    path = tmp_path / "pics.zip"
    path.write_bytes(zipped)
    assert read_images(path).names == from_folder.names


def test_npy_of_uint8_and_of_floats(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, size=(4, 10, 10), dtype=np.uint8)
    buf = io.BytesIO()
    np.save(buf, grey)
    images = read_images(buf.getvalue(), name="grey.npy")
    assert images.names == ["image-00000", "image-00001", "image-00002", "image-00003"]
    assert np.array_equal(images.pixels(10)[..., 0], grey)
    colour = rng.random((3, 8, 8, 3)).astype(np.float32)
    np.save(tmp_path / "colour.npy", colour)
    px = read_images(tmp_path / "colour.npy").pixels(8)
    assert px.shape == (3, 8, 8, 3)
    assert np.array_equal(px, np.rint(colour * 255).astype(np.uint8))
    assert ImageSet.from_array(grey * 0 + 7, names=list("abcd")).pixels(4).max() == 7
    wide = np.full((2, 6, 6), 100.6)  # floats in 0..255 are rounded, not scaled
    assert (ImageSet.from_array(wide).pixels(6) == 101).all()
    for bad, why in [(np.full((1, 2, 2), np.nan), "NaN"), (np.full((1, 2, 2), 300.0), "0..255")]:
        with pytest.raises(InputError, match=why):
            ImageSet.from_array(bad)


def test_npy_with_a_huge_shape_is_refused_before_any_allocation(tmp_path: Path) -> None:
    path = tmp_path / "bomb.npy"
    with path.open("wb") as fh:
        np.lib.format.write_array_header_2_0(
            fh, {"descr": "|u1", "fortran_order": False, "shape": (10**6, 1000, 1000)}
        )
        fh.write(b"\x00" * 64)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="EXPLORER_MAX_DECODED_BYTES"):
            read_images(path, name="bomb.npy")
        with pytest.raises(InputError, match="damaged or truncated"):
            read_images(path.read_bytes(), name="bomb.npy", max_images=2)
        assert tracemalloc.get_traced_memory()[1] < 10 << 20
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("size", [(100_000, 100_000), (8_000, 8_000)])
def test_an_image_of_too_many_pixels_is_refused_naming_it(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    root = _folder(
        tmp_path / "pics", {"ok.png": _png(_grey()), "sub/huge.png": _png_claiming(*size)}
    )
    with pytest.raises(InputError) as err:
        read_images(root, name="pics")
    message = str(err.value)
    assert "sub/huge.png" in message and "40,000,000" in message
    assert str(tmp_path) not in message
    with pytest.raises(InputError, match="40,000,000"):
        read_images(_zip({"huge.png": _png_claiming(*size)}))


def test_zip_members_climbing_out_are_skipped_with_a_note() -> None:
    data = _zip({"../evil.png": _png(_grey()), "/abs.png": _png(_grey()), "ok.png": _png(_grey())})
    images = read_images(data)
    assert images.names == ["ok.png"]
    assert any("../evil.png" in n and "unsafe" in n for n in images.notes)


def test_zip_bomb_stops_at_the_decoded_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_MAX_DECODED_BYTES", "1000000")
    bomb = _zip({"bomb.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * (64 << 20)})
    assert len(bomb) < 1 << 20
    with pytest.raises(InputError, match="EXPLORER_MAX_DECODED_BYTES") as err:
        read_images(bomb, name="bomb.zip")
    read_so_far = int(re.search(r"so far: ([\d,]+)", str(err.value))[1].replace(",", ""))
    assert read_so_far < 3 << 20  # stopped within a few pieces, not after 64 MB


def test_a_file_over_the_file_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    noise = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    root = _folder(tmp_path / "pics", {"big.png": _png(Image.fromarray(noise))})
    monkeypatch.setenv("EXPLORER_MAX_FILE_BYTES", "2000")
    with pytest.raises(InputError, match="EXPLORER_MAX_FILE_BYTES") as err:
        read_images(root)
    assert "big.png" in str(err.value) and str(tmp_path) not in str(err.value)


def test_no_images_or_other_input_is_refused_saying_what_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"No PNG or JPEG images in 'empty'.*\.zip"):
        read_images(_folder(tmp_path / "empty", {"a.txt": b"hello"}), name="empty")
    with pytest.raises(InputError, match=r"\.npy"):
        read_images(b"just some bytes", name="upload")
    (tmp_path / "words.txt").write_text("hello")
    with pytest.raises(InputError, match=r"\.zip") as err:
        read_images(tmp_path / "words.txt", name="words.txt")
    assert str(tmp_path) not in str(err.value)
    with pytest.raises(InputError, match="No PNG or JPEG"):
        read_images(_zip({"x.csv": b"a,b"}))


def test_damaged_images_are_skipped_when_others_are_good(tmp_path: Path) -> None:
    good, colour = _png(_grey()), _jpeg(_centre_red())
    root = _folder(tmp_path / "pics", {"good.png": good, "cut.png": good[: len(good) // 2]})
    images = read_images(root)
    assert images.names == ["good.png"]
    assert any("cut.png" in n and "could not be decoded" in n for n in images.notes)
    only_bad = _folder(tmp_path / "bad", {"cut.png": good[: len(good) // 2]})
    with pytest.raises(InputError, match="could not be decoded"):
        read_images(only_bad)
    # A JPEG cut inside its pixel data is found by the reading pass, which decodes every
    # image once, and named.
    with pytest.raises(InputError, match="could not be decoded.*'cut.jpg'"):
        read_images(_zip({"cut.jpg": colour[: len(colour) - 200]}))


def test_links_out_of_the_folder_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes(_png(_grey()))
    root = _folder(tmp_path / "pics", {"ok.png": _png(_grey())})
    (root / "link.png").symlink_to(outside)
    (root / "inside.png").symlink_to(root / "ok.png")
    images = read_images(root)
    assert images.names == ["inside.png", "ok.png"]
    assert any("link.png" in n for n in images.notes)


def test_max_images_reads_only_the_first(tmp_path: Path) -> None:
    files = {f"img{i}.png": _png(_grey()) for i in range(4)}
    files["img9.png"] = _png_claiming(100_000, 100_000)  # never read: no error
    images = read_images(_folder(tmp_path / "pics", files), max_images=2)
    assert images.names == ["img0.png", "img1.png"]
    assert any("left out 3 more" in n for n in images.notes)
    assert read_images(_zip(files), max_images=3).names == ["img0.png", "img1.png", "img2.png"]
    buf = io.BytesIO()
    np.save(buf, np.zeros((5, 4, 4), np.uint8))
    assert len(read_images(buf.getvalue(), max_images=2)) == 2


def test_too_many_images_for_the_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_MAX_ROWS", "2")
    files = {f"img{i}.png": _png(_grey()) for i in range(3)}
    with pytest.raises(InputError, match="EXPLORER_MAX_ROWS"):
        read_images(_folder(tmp_path / "pics", files))


@pytest.mark.parametrize("shape", [(8, 8, 3), (8, 8)])
def test_thumbnail_uri_round_trips(shape: tuple[int, ...]) -> None:
    thumb = np.random.default_rng(2).integers(0, 256, shape, dtype=np.uint8)
    uri = thumbnail_uri(thumb)
    assert uri.startswith("data:image/png;base64,")
    back = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    assert np.array_equal(back, thumb)


def test_captions_find_their_columns_and_match_base_names() -> None:
    names = ["a/x.png", "b/y.png", "c/x.png", "z.jpg"]
    csv = (
        "Image,Caption,label\n"
        "b/y.png,a dog,animal\n"
        "z.jpg,a cat,animal\n"
        "z.jpg,another cat,animal\n"
        "x.png,ambiguous,thing\n"
        "nothere.png,lost,thing\n"
    )
    df = read_captions(csv.encode(), names)
    assert list(df.columns) == ["file", "text", "label"]
    assert df["file"].tolist() == ["b/y.png", "z.jpg", "z.jpg"]
    assert df["text"].tolist() == ["a dog", "a cat", "another cat"]
    assert df["label"].tolist() == ["animal"] * 3
    [note] = df.attrs["notes"]
    assert note.startswith("Dropped 2 row") and "nothere.png" in note
    two = read_captions(b"pic,words\ny.png,a dog\n", names)
    assert two[["file", "text"]].values.tolist() == [["b/y.png", "a dog"]]


def test_captions_without_usable_columns_say_what_is_needed(tmp_path: Path) -> None:
    path = tmp_path / "caps.csv"
    path.write_text("alpha,beta,gamma\nx.png,1,2\n")
    with pytest.raises(InputError, match="'alpha', 'beta', 'gamma'.*caption") as err:
        read_captions(path, ["x.png"], name="caps.csv")
    assert str(tmp_path) not in str(err.value)
    none = read_captions(b"file,text\nother.png,hi\n", ["x.png"])
    assert len(none) == 0 and list(none.columns) == ["file", "text"]
    assert "Dropped 1 row" in none.attrs["notes"][0]
    with pytest.raises(InputError, match="EXPLORER_MAX_ROWS"):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("EXPLORER_MAX_ROWS", "2")
            read_captions(b"file,text\nx.png,a\nx.png,b\nx.png,c\n", ["x.png"])
