from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from explorer.errors import InputError, ModelError
from explorer.models import DEFAULT_MODEL, embed_texts, load_model, resolve_model


def test_resolve_packaged_local_and_hub(tmp_path: Path) -> None:
    packaged = resolve_model(None)
    assert packaged.spec == DEFAULT_MODEL and packaged.kind == "packaged"
    assert (Path(packaged.location) / "modules.json").is_file()
    local = resolve_model(packaged.location)
    assert local.kind == "local" and local.identity.startswith("local:")
    assert resolve_model("sentence-transformers/all-mpnet-base-v2").kind == "hub"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a sentence-transformers model folder"):
        resolve_model(str(tmp_path / "empty"))
    with pytest.raises(ModelError, match="No model folder"):
        resolve_model(str(tmp_path / "missing" / "x"))


def test_models_load_without_remote_code(monkeypatch: pytest.MonkeyPatch) -> None:
    import sentence_transformers

    import explorer.models as mod

    seen: dict[str, object] = {}

    class Fake:
        def __init__(self, location: str, **kwargs: object) -> None:
            seen.update(kwargs, location=location)

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", Fake)
    mod._load.cache_clear()
    try:
        load_model(None)
    finally:
        mod._load.cache_clear()
    assert seen["trust_remote_code"] is False


@pytest.mark.slow
def test_offline_hub_id_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
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
