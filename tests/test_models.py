from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from explorer.core.errors import InputError, ModelError
from explorer.ingest.embed import embed_texts
from explorer.ingest.models import DEFAULT_MODEL, load_model, resolve_model


def test_resolve_packaged_local_and_hub(tmp_path: Path) -> None:
    packaged = resolve_model(None)
    assert packaged.spec == DEFAULT_MODEL and packaged.kind == "packaged"
    assert (Path(packaged.location) / "modules.json").is_file()
    # Any folder or hub id only for the operator (trusted); see test_models_security.
    local = resolve_model(packaged.location, trusted=True)
    assert local.kind == "local" and local.identity.startswith("local:")
    assert resolve_model("sentence-transformers/all-mpnet-base-v2", trusted=True).kind == "hub"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a sentence-transformers model folder"):
        resolve_model(str(tmp_path / "empty"), trusted=True)
    with pytest.raises(ModelError, match="No model folder"):
        resolve_model(str(tmp_path / "missing" / "x"), trusted=True)


def test_models_load_without_remote_code(monkeypatch: pytest.MonkeyPatch) -> None:
    import sentence_transformers

    import explorer.ingest.models as mod

    seen: dict[str, object] = {}

    class Fake:
        def __init__(self, location: str, **kwargs: object) -> None:
            seen.update(kwargs, location=location)

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", Fake)
    mod.unload_models()
    try:
        load_model(None)
    finally:
        mod.unload_models()
    assert seen["trust_remote_code"] is False


@pytest.mark.slow
def test_offline_hub_id_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("EXPLORER_MODELS", "nobody-here/not-a-model")  # allowed, not cached
    with pytest.raises(ModelError, match="offline.*packaged model"):
        load_model("nobody-here/not-a-model")


@pytest.mark.slow
def test_embedding_is_normalised_batched_and_reported(tmp_path: Path) -> None:
    texts = ["a cat sat on the mat", "stock markets fell sharply", "word " * 400, "hi"]
    steps: list[float] = []
    enc = embed_texts(
        texts, cache_dir=tmp_path, batch_size=2, progress=lambda f, m: steps.append(f)
    )
    assert enc.vectors.shape == (4, 384) and enc.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(enc.vectors, axis=1), 1.0, rtol=1e-5)
    assert enc.n_truncated == 1 and enc.max_seq_length == 256
    assert steps and steps[-1] == 1.0 and steps == sorted(steps)
    # Sorting by length for batching must not scramble the rows.
    one = embed_texts(["stock markets fell sharply"], use_cache=False).vectors[0]
    np.testing.assert_allclose(enc.vectors[1], one, atol=1e-5)


@pytest.mark.slow
def test_cache_never_embeds_a_text_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = embed_texts(["alpha beta", "gamma delta"], cache_dir=tmp_path)
    assert first.n_cached == 0
    model = load_model(None)
    encoded: list[str] = []
    real = model.encode

    def counting(texts, *a, **k):  # type: ignore[no-untyped-def]
        encoded.extend(texts)
        return real(texts, *a, **k)

    monkeypatch.setattr(model, "encode", counting)
    bigger = embed_texts(["gamma delta", "new text here", "alpha beta"], cache_dir=tmp_path)
    assert encoded == ["new text here"]
    assert bigger.n_cached == 2
    np.testing.assert_array_equal(bigger.vectors[0], first.vectors[1])
    np.testing.assert_array_equal(bigger.vectors[2], first.vectors[0])


def test_no_texts_means_no_rows() -> None:
    with pytest.raises(InputError, match="No rows"):
        embed_texts([])


# --- precision -------------------------------------------------------------------------


def test_bf16_detection_reads_the_cpu_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    import explorer.ingest.models as mod

    monkeypatch.setattr(mod, "_cpu_flags", lambda: {"sse2", "avx2", "avx512f"})
    mod.fast_precision_supported.cache_clear()
    try:
        ok, why = mod.fast_precision_supported()
        assert not ok and "avx512_bf16" in why
        monkeypatch.setattr(mod, "_cpu_flags", lambda: None)
        mod.fast_precision_supported.cache_clear()
        assert mod.fast_precision_supported() == (False, "the CPU's features could not be read")
    finally:
        monkeypatch.undo()
        mod.fast_precision_supported.cache_clear()
    ok, why = mod.fast_precision_supported()
    assert isinstance(ok, bool) and why


def test_precision_resolves_auto_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import explorer.ingest.models as mod

    monkeypatch.setattr(mod, "fast_precision_supported", lambda: (True, "native"))
    assert mod.resolve_precision("bf16") == ("bf16", "")
    assert mod.resolve_precision("auto") == ("bf16", "")
    monkeypatch.setattr(mod, "fast_precision_supported", lambda: (False, "no avx512_bf16"))
    run_as, note = mod.resolve_precision("bf16")
    assert run_as == "fp32"
    assert note == "bfloat16 is not supported by this CPU (no avx512_bf16); used float32"
    assert mod.resolve_precision("auto") == ("fp32", "")
    assert mod.resolve_precision("fp32") == ("fp32", "")
    with pytest.raises(InputError, match="Unknown precision"):
        mod.resolve_precision("fp8")  # type: ignore[arg-type]


@pytest.mark.slow
def test_unsupported_bf16_falls_back_to_fp32_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import explorer.ingest.models as mod

    monkeypatch.setattr(mod, "fast_precision_supported", lambda: (False, "test CPU"))
    texts = ["a cat sat on the mat", "stock markets fell sharply"]
    enc = embed_texts(texts, cache_dir=tmp_path, precision="bf16")
    assert enc.precision == "fp32"
    assert enc.note == "bfloat16 is not supported by this CPU (test CPU); used float32"
    fp32 = embed_texts(texts, cache_dir=tmp_path)  # cached under fp32: it was fp32
    assert fp32.n_cached == 2 and fp32.note == "" and fp32.precision == "fp32"
    np.testing.assert_array_equal(enc.vectors, fp32.vectors)


@pytest.mark.slow
def test_bf16_vectors_match_fp32_as_float32_unit_rows() -> None:
    import torch

    from explorer.ingest.models import fast_precision_supported

    ok, why = fast_precision_supported()
    if not ok:
        pytest.skip(f"bfloat16 is not fast on this CPU: {why}")
    texts = [
        "a cat sat on the mat",
        "stock markets fell sharply after the announcement",
        "The committee will meet again next week to discuss the budget. " * 8,
        "hi",
    ]
    b16 = embed_texts(texts, precision="bf16", use_cache=False)
    f32 = embed_texts(texts, use_cache=False)
    assert b16.precision == "bf16" and b16.note == ""
    assert next(load_model(None, "bf16").parameters()).dtype == torch.bfloat16
    assert b16.vectors.dtype == np.float32 and b16.vectors.shape == f32.vectors.shape
    # Normalised in float32: bfloat16 rounding alone leaves norms off by ~1e-3.
    np.testing.assert_allclose(np.linalg.norm(b16.vectors, axis=1), 1.0, atol=1e-6)
    cos = np.einsum("ij,ij->i", b16.vectors, f32.vectors)
    assert cos.min() >= 0.99
    assert not np.array_equal(b16.vectors, f32.vectors)  # really another computation


# --- cheap truncation count, token-budget batches, cache -----------------------------


@pytest.mark.slow
def test_truncation_count_is_exact_and_skips_short_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    import explorer.ingest.embed as mod

    model = load_model(None)
    tok = model.tokenizer
    texts = [
        "hi",
        "a short sentence of a few words",
        "word " * 253,  # 253 + [CLS] + [SEP] = 255 tokens: fits
        "word " * 254,  # 256: fits exactly
        "word " * 255,  # 257: truncated
        "naïve café 東京 " * 100,
        "x" * 100_000 + " end",  # one huge word, one [UNK]: its head is not enough
        "word " * 20_000,  # long: decided from its head alone
    ]
    full = [len(ids) > 256 for ids in tok(texts, truncation=False)["input_ids"]]
    seen: list[str] = []
    real = mod._token_counts

    def recording(t, xs):  # type: ignore[no-untyped-def]
        seen.extend(xs)
        return real(t, xs)

    monkeypatch.setattr(mod, "_token_counts", recording)
    assert mod._truncated(model, texts, 256) == full
    assert full == [False, False, False, False, True, True, False, True]
    assert "hi" not in seen and texts[1] not in seen  # too short to be truncated
    assert texts[7] not in seen  # its head already has more than 256 tokens
    assert texts[6] in seen  # its head had too few: counted in full


@pytest.mark.slow
def test_default_batches_follow_text_length(tmp_path: Path) -> None:
    import explorer.ingest.embed as mod

    model = load_model(None)
    long_b = mod._auto_batch(model, ["The committee met to discuss the budget. " * 40] * 8, 256)
    short_b = mod._auto_batch(model, ["stock markets fell"] * 8, 256)
    assert 4 <= long_b and 8 * long_b <= short_b  # batches follow a token budget
    texts = ["The committee met to discuss the budget. " * 40, "markets fell", "hi there"] * 3
    steps: list[float] = []
    auto = embed_texts(texts, cache_dir=tmp_path, progress=lambda f, m: steps.append(f))
    fixed = embed_texts(texts, use_cache=False, batch_size=2)
    np.testing.assert_allclose(auto.vectors, fixed.vectors, atol=1e-5)
    assert auto.n_truncated == 3 and steps[-1] == 1.0


@pytest.mark.slow
def test_cached_texts_are_neither_encoded_nor_tokenised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import explorer.ingest.embed as mod

    texts = ["word " * 400, "a cat sat on the mat", "word " * 400]
    first = embed_texts(texts, cache_dir=tmp_path)
    assert first.n_truncated == 2

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("a cached text was tokenised or encoded again")

    monkeypatch.setattr(mod, "_token_counts", boom)
    monkeypatch.setattr(load_model(None), "encode", boom)
    again = embed_texts(texts, cache_dir=tmp_path)
    assert again.n_cached == 3 and again.n_truncated == 2
    np.testing.assert_array_equal(again.vectors, first.vectors)


def test_a_cache_from_before_truncation_flags_still_works(tmp_path: Path) -> None:
    import sqlite3

    from explorer.ingest.embed_cache import EmbeddingCache

    db = tmp_path / "embeddings.sqlite"
    old = np.arange(3, dtype=np.float32)
    with sqlite3.connect(db) as con:  # the old schema, and how old versions write
        con.execute(
            "CREATE TABLE vec (model TEXT, h BLOB, dim INT, v BLOB, PRIMARY KEY (model, h))"
        )
        con.execute("INSERT INTO vec VALUES (?, ?, ?, ?)", ("m", b"k1", 3, old.tobytes()))
    cache = EmbeddingCache(tmp_path)
    got = cache.get("m", [b"k1", b"k2"])
    assert list(got) == [b"k1"] and got[b"k1"][1] is None  # vector kept, flag unknown
    np.testing.assert_array_equal(got[b"k1"][0], old)
    cache.set_truncated("m", [b"k1"], [True])
    cache.put("m", [b"k2"], np.ones((1, 3), np.float32), [False])
    with sqlite3.connect(db) as con:  # an older version can still write to it
        con.execute("INSERT OR REPLACE INTO vec VALUES (?, ?, ?, ?)", ("m", b"k3", 3, b"\0" * 12))
    got = cache.get("m", [b"k1", b"k2", b"k3"])
    assert got[b"k1"][1] is True and got[b"k2"][1] is False and got[b"k3"][1] is None
    assert cache.get("other-model", [b"k1"]) == {}
