"""The embedding precision chooser: bfloat16 only where fast and faithful, else float32."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import explorer.ingest.fast_mode as fm
import explorer.ingest.models as models
from explorer.ingest.embed import embed_texts


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    fm.forget_verdicts()
    yield
    fm.forget_verdicts()


class _Noisy:
    """A bfloat16 model stand-in whose vectors drift from the real float32 ones."""

    def __init__(self, real: Any, noise: float) -> None:
        self.real, self.noise = real, noise

    def encode(self, texts: list[str], **kw: Any) -> np.ndarray:
        v = np.asarray(self.real.encode(texts, **kw), dtype=np.float32)
        rng = np.random.default_rng(0)
        return v + self.noise * rng.standard_normal(v.shape).astype(np.float32)


def _fake_bf16(monkeypatch: pytest.MonkeyPatch, make: Any) -> None:
    """load_model as the chooser sees it, with the bfloat16 model replaced by `make(fp32)`."""
    real_load = models.load_model

    def load(spec: str | None = None, precision: str = "fp32", **kw: Any) -> Any:
        fp32 = real_load(spec, "fp32", **kw)
        return fp32 if precision == "fp32" else make(fp32)

    monkeypatch.setattr(fm, "load_model", load)
    monkeypatch.setattr(models, "fast_precision_supported", lambda: (True, "native"))


def test_a_cpu_without_bfloat16_embeds_in_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "fast_precision_supported", lambda: (False, "no avx512_bf16"))
    assert fm.choose_precision(None, "auto") == fm.Verdict("fp32", None, "")
    asked = fm.choose_precision(None, "bf16")
    assert asked.precision == "fp32" and "no avx512_bf16" in asked.note
    enc = embed_texts(["a frog", "a toad"], None, precision="auto", use_cache=False)
    assert enc.precision == "fp32" and enc.note == ""


def test_a_model_that_drifts_in_bfloat16_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_bf16(monkeypatch, lambda fp32: _Noisy(fp32, 0.08))
    verdict = fm.choose_precision(None, "auto")
    assert verdict.precision == "fp32"
    assert verdict.cos_min is not None and verdict.cos_min < fm.MIN_COSINE
    assert "float32" in verdict.note and f"{verdict.cos_min:.3f}" in verdict.note
    enc = embed_texts(["a frog", "a toad"], None, precision="auto", use_cache=False)
    assert enc.precision == "fp32" and enc.note == verdict.note
    # the same vectors as asking for float32 outright
    plain = embed_texts(["a frog", "a toad"], None, precision="fp32", use_cache=False)
    np.testing.assert_array_equal(enc.vectors, plain.vectors)


def test_slight_drift_passes_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_bf16(monkeypatch, lambda fp32: _Noisy(fp32, 0.0005))
    verdict = fm.choose_precision(None, "auto")
    assert verdict.precision == "bf16" and verdict.note == ""
    assert verdict.cos_min is not None and fm.MIN_COSINE <= verdict.cos_min < 1.0


def test_a_model_that_fails_in_bfloat16_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(fp32: Any) -> Any:
        raise RuntimeError("no bfloat16 kernel for this op")

    _fake_bf16(monkeypatch, broken)
    verdict = fm.choose_precision(None, "bf16")
    assert verdict.precision == "fp32" and "did not run in bfloat16" in verdict.note


def test_the_probe_runs_once_per_model(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counted(fp32: Any) -> Any:
        calls.append(1)
        return _Noisy(fp32, 0.0)

    _fake_bf16(monkeypatch, counted)
    for _ in range(3):
        assert fm.choose_precision(None, "auto").precision == "bf16"
    assert len(calls) == 1


@pytest.mark.skipif(not models.fast_precision_supported()[0], reason="no native bfloat16 here")
def test_the_packaged_model_passes_and_embeds_in_bfloat16() -> None:
    verdict = fm.choose_precision(None, "auto")
    assert verdict.precision == "bf16" and verdict.cos_min is not None
    assert verdict.cos_min >= fm.MIN_COSINE
    texts = ["a frog sat on a lily pad", "interest rates rose", "東京"]
    fast = embed_texts(texts, None, precision="auto", use_cache=False)
    slow = embed_texts(texts, None, precision="fp32", use_cache=False)
    assert fast.precision == "bf16"
    assert np.all((fast.vectors * slow.vectors).sum(axis=1) >= fm.MIN_COSINE)
    assert not np.array_equal(fast.vectors, slow.vectors)  # really another precision
