"""explorer.ingest.sources: every format and every validation rule, on files made in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.core.errors import InputError
from explorer.core.space import make_space
from explorer.ingest.sources import FORMATS, Loaded, detect_format, read_source, read_table_preview

# --------------------------------------------------------------------------- helpers


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def vec_tsv(rows: list[list[float]]) -> str:
    return "".join("\t".join(str(x) for x in r) + "\n" for r in rows)


# --------------------------------------------------------------------------- text tables


def test_csv_named_columns(tmp_path: Path) -> None:
    p = write(tmp_path / "a.csv", "key,body,topic\n007,hello world,greet\n8,good bye,part\n")
    got = read_source(p, text_col="body", id_col="key")
    assert isinstance(got, Loaded)
    assert got.kind == "text" and got.fmt == "csv" and got.vectors is None
    assert got.items["id"].tolist() == ["007", "8"]  # ids stay strings as written
    assert got.items["text"].tolist() == ["hello world", "good bye"]
    assert list(got.items.columns) == ["id", "text", "topic"]  # other columns kept
    assert got.source["files"] == ["a.csv"]
    assert got.source["text_col"] == "body" and got.source["id_col"] == "key"
    json.dumps(got.source)  # JSON-able


def test_csv_label_cols_restrict_metadata(tmp_path: Path) -> None:
    p = write(tmp_path / "a.csv", "body,topic,junk\nhello,x,1\nbye,y,2\n")
    got = read_source(p, text_col="body", label_cols=["topic"])
    assert list(got.items.columns) == ["id", "text", "topic"]
    assert got.items["id"].tolist() == ["0", "1"]


def test_longest_string_column_is_picked_and_noted(tmp_path: Path) -> None:
    p = write(
        tmp_path / "a.csv",
        "tag,body,n\nab,a much longer piece of text,1\ncd,another long sentence here,2\n",
    )
    got = read_source(p)
    assert got.items["text"].tolist()[0] == "a much longer piece of text"
    assert got.items["tag"].tolist() == ["ab", "cd"]
    note = " ".join(got.notes)
    assert "Picked column 'body' as the text (longest strings" in note
    assert "'tag'" in note


def test_tsv_text(tmp_path: Path) -> None:
    p = write(tmp_path / "a.tsv", "text\tlabel\nthe cat, sat\tanimal\na dog\tanimal\n")
    assert detect_format(p) == "tsv"
    got = read_source(p, text_col="text")
    assert got.fmt == "tsv"
    assert got.items["text"].tolist() == ["the cat, sat", "a dog"]
    assert got.items["label"].tolist() == ["animal", "animal"]


def test_parquet_text(tmp_path: Path) -> None:
    p = tmp_path / "a.parquet"
    pd.DataFrame({"doc": ["alpha beta", "gamma"], "year": [2001, 2002]}).to_parquet(p)
    got = read_source(p)
    assert got.fmt == "parquet" and got.kind == "text"
    assert got.items["text"].tolist() == ["alpha beta", "gamma"]
    assert got.items["year"].tolist() == [2001, 2002]


def test_jsonl_text(tmp_path: Path) -> None:
    p = write(
        tmp_path / "a.jsonl",
        '{"id": "x1", "text": "first item", "src": "web"}\n\n'
        '{"id": "x2", "text": "second item", "src": "book"}\n',
    )
    got = read_source(p, text_col="text", id_col="id")
    assert got.fmt == "jsonl"
    assert got.items["id"].tolist() == ["x1", "x2"]
    assert got.items["text"].tolist() == ["first item", "second item"]
    assert got.items["src"].tolist() == ["web", "book"]


def test_jsonl_bad_line_is_named(tmp_path: Path) -> None:
    p = write(tmp_path / "a.jsonl", '{"text": "ok"}\n{"text": broken}\n')
    with pytest.raises(InputError, match="Line 2"):
        read_source(p)


def test_txt_skips_blank_lines_and_counts_them(tmp_path: Path) -> None:
    p = write(tmp_path / "a.txt", "first line\n\n   \nsecond line\nthird\n")
    assert detect_format(p) == "txt"
    got = read_source(p)
    assert got.kind == "text" and got.fmt == "txt"
    assert got.items["text"].tolist() == ["first line", "second line", "third"]
    assert got.items["id"].tolist() == ["0", "1", "2"]
    assert any("Skipped 2 blank line(s)" in n for n in got.notes)


def test_empty_text_rows_skipped_and_counted(tmp_path: Path) -> None:
    p = write(tmp_path / "a.csv", "k,body\na,hello\nb,\nc,   \nd,world\n")
    got = read_source(p, text_col="body", id_col="k")
    assert got.items["id"].tolist() == ["a", "d"]
    note = " ".join(got.notes)
    assert "Skipped 2 row(s) with empty text in column 'body'" in note
    assert "'b'" in note and "'c'" in note


def test_words_like_na_are_texts_not_missing(tmp_path: Path) -> None:
    p = write(tmp_path / "a.csv", "w\nNA\nnull\nNone\n")
    got = read_source(p, text_col="w")
    assert got.items["text"].tolist() == ["NA", "null", "None"]


# --------------------------------------------------------------------------- vector tables


def test_parquet_list_column_vectors(tmp_path: Path) -> None:
    p = tmp_path / "v.parquet"
    pd.DataFrame({"name": ["a", "b"], "emb": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}).to_parquet(p)
    got = read_source(p, id_col="name")
    assert got.kind == "vectors"
    assert got.vectors is not None
    assert got.vectors.dtype == np.float32 and got.vectors.flags.c_contiguous
    np.testing.assert_array_equal(got.vectors, [[1, 2, 3], [4, 5, 6]])
    assert got.items["id"].tolist() == ["a", "b"]
    assert "emb" not in got.items.columns
    assert any("column 'emb'" in n for n in got.notes)
    assert got.source["vector_col"] == "emb"


def test_csv_json_list_strings_with_text(tmp_path: Path) -> None:
    p = write(
        tmp_path / "v.csv",
        'sentence,vec\nhello there,"[0.5, 1.5]"\ngood day,"[2, 3]"\n',
    )
    got = read_source(p, vector_col="vec")
    assert got.kind == "vectors"
    np.testing.assert_array_equal(got.vectors, [[0.5, 1.5], [2, 3]])
    assert got.items["text"].tolist() == ["hello there", "good day"]  # kept for labels
    auto = read_source(p)  # the JSON-list column is found without vector_col
    np.testing.assert_array_equal(auto.vectors, [[0.5, 1.5], [2, 3]])
    assert any("Read the vectors from column 'vec'" in n for n in auto.notes)


def test_jsonl_list_vectors_detected(tmp_path: Path) -> None:
    p = write(tmp_path / "v.jsonl", '{"w": "a", "v": [1, 0]}\n{"w": "b", "v": [0, 1]}\n')
    got = read_source(p, id_col="w")
    np.testing.assert_array_equal(got.vectors, [[1, 0], [0, 1]])
    assert got.items["id"].tolist() == ["a", "b"]


def test_unequal_list_vectors_name_rows(tmp_path: Path) -> None:
    p = write(
        tmp_path / "v.jsonl",
        '{"w": "a", "v": [1, 0]}\n{"w": "b", "v": [0, 1, 2]}\n{"w": "c", "v": [3, 4]}\n',
    )
    with pytest.raises(InputError) as err:
        read_source(p, id_col="w", vector_col="v")
    msg = str(err.value)
    assert "unequal lengths" in msg and "'b'" in msg and "'a'" not in msg


def test_numeric_columns_are_vector_dims(tmp_path: Path) -> None:
    p = write(tmp_path / "v.csv", "word,x,y,z\ncat,1,2,3\ndog,4,5,6\n")
    got = read_source(p, label_cols=["word"])
    assert got.kind == "vectors"
    np.testing.assert_array_equal(got.vectors, [[1, 2, 3], [4, 5, 6]])
    assert got.items["word"].tolist() == ["cat", "dog"]
    assert got.source["vector_columns"] == ["x", "y", "z"]
    # The same file with the word as ids.
    got = read_source(p, id_col="word")
    assert got.items["id"].tolist() == ["cat", "dog"]
    assert got.vectors is not None and got.vectors.shape == (2, 3)


def test_headerless_numeric_csv(tmp_path: Path) -> None:
    p = write(tmp_path / "v.csv", "0.1,0.2\n0.3,0.4\n")
    got = read_source(p)
    assert got.kind == "vectors"
    np.testing.assert_allclose(got.vectors, [[0.1, 0.2], [0.3, 0.4]])
    assert any("no header row" in n for n in got.notes)


def test_nan_vectors_are_not_dropped(tmp_path: Path) -> None:
    p = write(tmp_path / "v.csv", "k,a,b\nx,1,2\ny,nan,3\n")
    got = read_source(p, id_col="k")
    assert got.vectors is not None and got.vectors.shape == (2, 2)
    assert np.isnan(got.vectors[1, 0])
    with pytest.raises(InputError, match="'y'"):  # the space refuses the NaN row, by its id
        make_space(got.items, got.vectors)


# --------------------------------------------------------------------------- numpy


def test_npy_with_csv_metadata(tmp_path: Path) -> None:
    v = np.arange(12, dtype=np.float64).reshape(4, 3)
    np.save(tmp_path / "v.npy", v)
    m = write(tmp_path / "m.csv", "name,group\na,g1\nb,g1\nc,g2\nd,g2\n")
    got = read_source(tmp_path / "v.npy", metadata_path=m, id_col="name")
    assert got.kind == "vectors" and got.fmt == "npy"
    assert got.vectors is not None and got.vectors.dtype == np.float32
    assert got.vectors.flags.writeable and got.vectors.flags.c_contiguous
    np.testing.assert_array_equal(got.vectors, v)
    assert got.items["id"].tolist() == ["a", "b", "c", "d"]
    assert got.items["group"].tolist() == ["g1", "g1", "g2", "g2"]
    assert got.source["files"] == ["v.npy", "m.csv"]


def test_npy_without_metadata(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.eye(3, dtype=np.float32))
    got = read_source(tmp_path / "v.npy")
    assert got.items["id"].tolist() == ["0", "1", "2"]
    np.testing.assert_array_equal(got.vectors, np.eye(3))


def test_npy_metadata_count_mismatch(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.ones((5, 2), dtype=np.float32))
    m = write(tmp_path / "m.csv", "name\na\nb\nc\nd\n")
    with pytest.raises(InputError) as err:
        read_source(tmp_path / "v.npy", metadata_path=m)
    msg = str(err.value)
    assert "4 rows" in msg and "5 vectors" in msg


_UNPICKLED: list[str] = []


def _record(tag: str) -> str:
    _UNPICKLED.append(tag)
    return tag


class _Trap:
    """Unpickling this object calls _record: proof that a pickle was loaded."""

    def __reduce__(self) -> tuple:
        return (_record, ("unpickled!",))


def test_npy_object_array_refused_without_unpickling(tmp_path: Path) -> None:
    arr = np.empty((2, 2), dtype=object)
    arr[:] = _Trap()
    np.save(tmp_path / "evil.npy", arr, allow_pickle=True)
    _UNPICKLED.clear()
    with pytest.raises(InputError, match="dtype=object"):
        read_source(tmp_path / "evil.npy")
    assert _UNPICKLED == []


def test_npz_object_array_refused_without_unpickling(tmp_path: Path) -> None:
    arr = np.empty((2, 2), dtype=object)
    arr[:] = _Trap()
    np.savez(tmp_path / "evil.npz", vectors=arr)
    _UNPICKLED.clear()
    with pytest.raises(InputError, match="never unpickled"):
        read_source(tmp_path / "evil.npz")
    assert _UNPICKLED == []


def test_npz_single_named_and_ambiguous(tmp_path: Path) -> None:
    np.savez(tmp_path / "one.npz", whatever=np.full((2, 2), 7.0))
    np.testing.assert_array_equal(read_source(tmp_path / "one.npz").vectors, np.full((2, 2), 7))

    np.savez(tmp_path / "two.npz", embeddings=np.ones((2, 3)), other=np.zeros(4))
    got = read_source(tmp_path / "two.npz")
    assert got.fmt == "npz" and got.vectors is not None and got.vectors.shape == (2, 3)
    assert any("'embeddings'" in n for n in got.notes)

    np.savez(tmp_path / "bad.npz", a=np.ones((2, 3)), b=np.zeros((2, 3)))
    with pytest.raises(InputError) as err:
        read_source(tmp_path / "bad.npz")
    assert "'a'" in str(err.value) and "'b'" in str(err.value)


def test_npy_wrong_shape(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.ones(5, dtype=np.float32))
    with pytest.raises(InputError, match=r"shape \(5,\)"):
        read_source(tmp_path / "v.npy")


# --------------------------------------------------------------------------- projector


def test_projector_single_column_metadata_has_no_header(tmp_path: Path) -> None:
    v = write(tmp_path / "vectors.tsv", vec_tsv([[1, 0], [0, 1], [1, 1]]))
    m = write(tmp_path / "metadata.tsv", "apple\nbanana\ncherry\n")
    assert detect_format(v) == "projector"
    got = read_source(v, metadata_path=m)
    assert got.kind == "vectors" and got.fmt == "projector"
    assert got.items["text"].tolist() == ["apple", "banana", "cherry"]  # first line is data
    np.testing.assert_array_equal(got.vectors, [[1, 0], [0, 1], [1, 1]])


def test_projector_multi_column_metadata_has_header(tmp_path: Path) -> None:
    v = write(tmp_path / "vectors.tsv", vec_tsv([[1, 0], [0, 1]]))
    m = write(tmp_path / "metadata.tsv", "word\tpos\napple\tnoun\nrun\tverb\n")
    got = read_source(v, metadata_path=m, id_col="word")
    assert got.items["id"].tolist() == ["apple", "run"]
    assert got.items["pos"].tolist() == ["noun", "verb"]
    # Read with the single-column rule, the header would be one row too many.
    m1 = write(tmp_path / "m1.tsv", "word\napple\nrun\n")
    with pytest.raises(InputError, match="3 rows"):
        read_source(v, metadata_path=m1)


def test_projector_unequal_rows_named(tmp_path: Path) -> None:
    v = write(tmp_path / "vectors.tsv", "1\t2\n3\t4\t5\n6\t7\n")
    with pytest.raises(InputError, match=r"line 2 \(3\)"):
        read_source(v, fmt="projector")


def _config(tmp_path: Path, emb: dict | list) -> Path:
    embs = emb if isinstance(emb, list) else [emb]
    return write(tmp_path / "projector_config.json", json.dumps({"embeddings": embs}))


def test_projector_config_bytes(tmp_path: Path) -> None:
    v = np.arange(6, dtype="<f4").reshape(3, 2)
    (tmp_path / "t.bytes").write_bytes(v.tobytes())
    write(tmp_path / "meta.tsv", "a\nb\nc\n")
    cfg = _config(
        tmp_path,
        [
            {
                "tensorName": "first",
                "tensorShape": [3, 2],
                "tensorPath": "t.bytes",
                "metadataPath": "meta.tsv",
            },
            {"tensorName": "second", "tensorShape": [2, 2], "tensorPath": "u.tsv"},
        ],
    )
    write(tmp_path / "u.tsv", vec_tsv([[9, 8], [7, 6]]))
    assert detect_format(cfg) == "projector-config"
    got = read_source(cfg)
    assert got.fmt == "projector-config" and got.kind == "vectors"
    np.testing.assert_array_equal(got.vectors, v)
    assert got.vectors is not None and got.vectors.flags.writeable
    assert got.items["text"].tolist() == ["a", "b", "c"]
    assert got.source["files"] == ["projector_config.json", "t.bytes", "meta.tsv"]
    assert got.source["tensor_name"] == "first"

    second = read_source(cfg, tensor_name="second")
    np.testing.assert_array_equal(second.vectors, [[9, 8], [7, 6]])
    with pytest.raises(InputError, match="'first', 'second'"):
        read_source(cfg, tensor_name="third")


def test_projector_config_size_mismatch(tmp_path: Path) -> None:
    (tmp_path / "t.bytes").write_bytes(np.zeros(5, dtype="<f4").tobytes())
    cfg = _config(tmp_path, {"tensorShape": [3, 2], "tensorPath": "t.bytes"})
    with pytest.raises(InputError) as err:
        read_source(cfg)
    assert "5 float32" in str(err.value) and "6 values" in str(err.value)


@pytest.mark.parametrize("bad", ["../secret.bytes", "sub/../../secret.bytes", "/etc/passwd"])
def test_projector_config_path_outside_folder_refused(tmp_path: Path, bad: str) -> None:
    folder = tmp_path / "upload"
    folder.mkdir()
    (tmp_path / "secret.bytes").write_bytes(np.zeros(4, dtype="<f4").tobytes())
    cfg = _config(folder, {"tensorShape": [2, 2], "tensorPath": bad})
    with pytest.raises(InputError, match="outside the config's folder"):
        read_source(cfg)


def test_projector_config_metadata_outside_folder_refused(tmp_path: Path) -> None:
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "t.bytes").write_bytes(np.zeros(4, dtype="<f4").tobytes())
    write(tmp_path / "meta.tsv", "a\nb\n")
    cfg = _config(
        folder, {"tensorShape": [2, 2], "tensorPath": "t.bytes", "metadataPath": "../meta.tsv"}
    )
    with pytest.raises(InputError, match="metadataPath '../meta.tsv' points outside"):
        read_source(cfg)


# --------------------------------------------------------------------------- word vectors


def test_word2vec_text(tmp_path: Path) -> None:
    p = write(tmp_path / "w.txt", "3 2\nthe 0.1 0.2\nof 0.3 0.4 \nand 0.5 0.6\n")
    assert detect_format(p) == "word2vec"
    got = read_source(p)
    assert got.kind == "words" and got.fmt == "word2vec"
    assert got.items["id"].tolist() == ["the", "of", "and"]
    assert got.items["text"].tolist() == ["the", "of", "and"]
    np.testing.assert_allclose(got.vectors, [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])


def test_glove_no_header(tmp_path: Path) -> None:
    p = write(tmp_path / "glove.6B.3d.txt", "the 1 2 3\n, 4 5 6\nking -1 0.5 2e-1\n")
    assert detect_format(p) == "glove"
    got = read_source(p)
    assert got.fmt == "glove"
    assert got.items["id"].tolist() == ["the", ",", "king"]  # first line is a word, not a header
    np.testing.assert_allclose(got.vectors, [[1, 2, 3], [4, 5, 6], [-1, 0.5, 0.2]])


def test_glove_unequal_lengths_named(tmp_path: Path) -> None:
    p = write(tmp_path / "g.txt", "the 1 2 3\nof 4 5\nand 7 8 9\n")
    with pytest.raises(InputError) as err:
        read_source(p, fmt="glove")
    assert "line 2 'of' (2)" in str(err.value)


def test_fasttext_vec_with_limit(tmp_path: Path) -> None:
    p = write(tmp_path / "cc.vec", "4 2\na 1 1\nb 2 2\nc 3 3\nd 4 4\n")
    assert detect_format(p) == "fasttext"
    got = read_source(p, limit=2)
    assert got.items["id"].tolist() == ["a", "b"]
    np.testing.assert_array_equal(got.vectors, [[1, 1], [2, 2]])
    assert got.source["limit"] == 2


def test_word2vec_bin_round_trip(tmp_path: Path) -> None:
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=4)
    words = ["king", "queen", "man", "woman", "café"]
    vecs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    kv.add_vectors(words, vecs)
    p = tmp_path / "vectors.bin"
    kv.save_word2vec_format(str(p), binary=True)
    assert detect_format(p) == "word2vec-bin"
    got = read_source(p)
    assert got.kind == "words" and got.fmt == "word2vec-bin"
    assert got.items["id"].tolist() == words
    np.testing.assert_array_equal(got.vectors, vecs)
    limited = read_source(p, limit=3)
    assert limited.items["id"].tolist() == words[:3]
    assert limited.vectors is not None and limited.vectors.shape == (3, 4)


def test_word2vec_bin_garbage(tmp_path: Path) -> None:
    p = write(tmp_path / "x.bin", b"not a header\n\x00\x01")
    with pytest.raises(InputError, match="word2vec binary"):
        read_source(p)


def test_words_make_space(tmp_path: Path) -> None:
    p = write(tmp_path / "w.txt", "2 2\nup 3 4\ndown 0 2\n")
    got = read_source(p)
    space = make_space(got.items, got.vectors, metric="cosine", source=got.source)
    assert space.ids.tolist() == ["up", "down"]
    np.testing.assert_allclose(space.vectors, [[0.6, 0.8], [0, 1]], rtol=1e-6)
    assert space.source["format"] == "word2vec"


# --------------------------------------------------------------------------- validation


def test_empty_inputs_say_no_rows(tmp_path: Path) -> None:
    cases = {
        "header.csv": "a,b\n",
        "empty.csv": "",
        "empty.txt": "\n\n",
        "empty.jsonl": "",
        "empty.vec": "0 3\n",
    }
    for name, text in cases.items():
        with pytest.raises(InputError) as err:
            read_source(write(tmp_path / name, text))
        assert "no rows" in str(err.value).lower(), name
    np.save(tmp_path / "empty.npy", np.zeros((0, 3), dtype=np.float32))
    with pytest.raises(InputError, match="no rows"):
        read_source(tmp_path / "empty.npy")


def test_all_texts_empty(tmp_path: Path) -> None:
    p = write(tmp_path / "a.csv", "body,n\n,1\n ,2\n")
    with pytest.raises(InputError, match="no rows with text in column 'body'"):
        read_source(p, text_col="body")


def test_non_utf8_csv_counts_rows(tmp_path: Path) -> None:
    data = "body,tag\ncaf\xe9 au lait,a\nplain,b\nna\xefve,c\nfine,d\n".encode("latin-1")
    p = write(tmp_path / "latin.csv", data)
    got = read_source(p, text_col="body")
    assert got.items["text"].tolist()[0] == "caf\ufffd au lait"
    assert any("2 row(s) decoded with replacement" in n for n in got.notes)


def test_non_utf8_txt_counts_rows(tmp_path: Path) -> None:
    p = write(tmp_path / "a.txt", "caf\xe9\nok\n".encode("latin-1"))
    got = read_source(p)
    assert got.items["text"].tolist() == ["caf\ufffd", "ok"]
    assert any("1 row(s) decoded with replacement" in n for n in got.notes)


def test_missing_column_lists_available(tmp_path: Path) -> None:
    p = write(tmp_path / "a.csv", "body,topic\nhello,x\n")
    with pytest.raises(InputError) as err:
        read_source(p, text_col="content")
    msg = str(err.value)
    assert "'content'" in msg and "Available columns: 'body', 'topic'" in msg
    with pytest.raises(InputError, match="'nope'"):
        read_source(p, label_cols=["nope"])


def test_duplicate_ids_rejected(tmp_path: Path) -> None:
    p = write(tmp_path / "a.csv", "k,body\nx,one\ny,two\nx,three\n")
    with pytest.raises(InputError) as err:
        read_source(p, text_col="body", id_col="k")
    assert "'x'" in str(err.value) and "more than once" in str(err.value)


def test_limit_applies_to_tables_and_arrays(tmp_path: Path) -> None:
    p = write(tmp_path / "a.txt", "".join(f"line {i}\n" for i in range(10)))
    assert read_source(p, limit=3).items["text"].tolist() == ["line 0", "line 1", "line 2"]
    c = write(tmp_path / "a.csv", "body\n" + "".join(f"t{i}\n" for i in range(10)))
    assert read_source(c, limit=4).items["text"].tolist() == ["t0", "t1", "t2", "t3"]
    np.save(tmp_path / "v.npy", np.arange(20, dtype=np.float32).reshape(10, 2))
    m = write(tmp_path / "m.txt", "".join(f"w{i}\n" for i in range(10)))
    got = read_source(tmp_path / "v.npy", metadata_path=m, limit=2)
    np.testing.assert_array_equal(got.vectors, [[0, 1], [2, 3]])
    assert got.items["text"].tolist() == ["w0", "w1"]
    with pytest.raises(InputError, match="limit"):
        read_source(p, limit=0)


def test_unsupported_extension(tmp_path: Path) -> None:
    p = write(tmp_path / "data.xyz", "hello")
    with pytest.raises(InputError) as err:
        read_source(p)
    msg = str(err.value)
    assert msg.startswith("Unsupported file type '.xyz'. Accepted:")
    assert ".csv" in msg and ".npy" in msg and ".parquet" in msg
    with pytest.raises(InputError, match="Unsupported file type '.xyz'"):
        detect_format("whatever.XYZ")


def test_unknown_fmt_name(tmp_path: Path) -> None:
    p = write(tmp_path / "a.csv", "a\nb\n")
    with pytest.raises(InputError, match="Unknown format 'excel'"):
        read_source(p, fmt="excel")
    assert "csv" in FORMATS and "word2vec-bin" in FORMATS and "projector-config" in FORMATS


def test_texts_come_without_vectors(tmp_path: Path) -> None:
    # Texts hand back no vectors: whoever builds the space must embed them with a model.
    p = write(tmp_path / "a.csv", "body\nhello\n")
    got = read_source(p)
    assert got.kind == "text" and got.vectors is None
    assert got.source["text_col"] == "body" and "dim" not in got.source


def test_npy_make_space(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.array([[3.0, 4.0], [1.0, 0.0]]))
    got = read_source(tmp_path / "v.npy")
    space = make_space(got.items, got.vectors, metric="l2", model="my-model", source=got.source)
    assert space.metric == "l2" and space.model == "my-model"
    np.testing.assert_array_equal(space.vectors, [[3, 4], [1, 0]])
    assert space.source["format"] == "npy"


def test_read_table_preview(tmp_path: Path) -> None:
    p = write(tmp_path / "a.csv", "body,n\n" + "".join(f"text {i},{i}\n" for i in range(50)))
    prev = read_table_preview(p, n=5)
    assert list(prev.columns) == ["body", "n"]
    assert prev["body"].tolist() == [f"text {i}" for i in range(5)]
    q = tmp_path / "a.parquet"
    pd.DataFrame({"x": range(30)}).to_parquet(q)
    assert read_table_preview(q, n=3)["x"].tolist() == [0, 1, 2]


# --------------------------------------------------------------------------- more rules


def test_projector_single_column_labels_stay_metadata(tmp_path: Path) -> None:
    v = write(tmp_path / "vectors.tsv", vec_tsv([[1, 2], [3, 4]]))
    m = write(tmp_path / "metadata.tsv", "7\n3\n")
    got = read_source(v, metadata_path=m)
    assert got.items["text"].tolist() == ["7", "3"]
    assert got.items["label"].tolist() == ["7", "3"]  # still there to colour by


def test_saved_index_dropped_and_id_column_used(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    pd.DataFrame({"id": ["a", "b"], "t": ["x y", "z"], "v": [1.5, 2.0]}).to_csv(p)
    got = read_source(p)
    assert list(got.items.columns) == ["id", "text", "v"]
    assert got.items["id"].tolist() == ["a", "b"]
    note = " ".join(got.notes)
    assert "Dropped column 'Unnamed: 0'" in note and "Used column 'id' as the ids" in note


def test_repeated_id_column_kept_as_metadata(tmp_path: Path) -> None:
    p = write(tmp_path / "a.csv", "id,x,y\na,1,2\na,3,4\n")
    got = read_source(p)
    assert got.kind == "vectors"
    assert got.items["id"].tolist() == ["0", "1"]
    assert got.items["id_1"].tolist() == ["a", "a"]
    np.testing.assert_array_equal(got.vectors, [[1, 2], [3, 4]])


def test_json_array_read_as_records(tmp_path: Path) -> None:
    p = write(tmp_path / "a.json", json.dumps([{"text": "hi", "k": 1}, {"text": "yo", "k": 2}]))
    assert detect_format(p) == "jsonl"
    got = read_source(p)
    assert got.items["text"].tolist() == ["hi", "yo"] and got.items["k"].tolist() == [1, 2]


def test_word2vec_bin_hostile_header(tmp_path: Path) -> None:
    p = write(tmp_path / "x.bin", b"3 200000000000\nab")
    with pytest.raises(InputError, match="damaged or truncated"):
        read_source(p)


def test_npy_header_larger_than_file(tmp_path: Path) -> None:
    np.save(tmp_path / "full.npy", np.ones((1000, 10), dtype=np.float32))
    cut = write(tmp_path / "cut.npy", (tmp_path / "full.npy").read_bytes()[:500])
    with pytest.raises(InputError, match=r"shape \(1000, 10\)"):
        read_source(cut)


def test_non_utf8_words_counted(tmp_path: Path) -> None:
    p = write(tmp_path / "w.txt", b"2 2\ncaf\xe9 1 2\nok 3 4\n")
    got = read_source(p)
    assert got.items["id"].tolist() == ["caf\ufffd", "ok"]
    assert any("1 row(s) decoded with replacement" in n for n in got.notes)


def test_projector_limit(tmp_path: Path) -> None:
    v = write(tmp_path / "vectors.tsv", vec_tsv([[1, 0], [0, 1], [1, 1]]))
    m = write(tmp_path / "metadata.tsv", "a\nb\nc\n")
    got = read_source(v, metadata_path=m, limit=2)
    assert got.items["text"].tolist() == ["a", "b"]
    np.testing.assert_array_equal(got.vectors, [[1, 0], [0, 1]])
