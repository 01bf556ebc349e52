"""The held-out data sets of the map bench: chosen before any run, never used to pick
a default (docs/maps.md, "Which data chose what").

* Fashion-MNIST, train + test: 70,000 × 784 pixel vectors, 10 classes;
* WordNet 3.0's 117,659 synset glosses (every part of speech) embedded with the packaged
  all-MiniLM-L6-v2, labelled by their 45 lexicographer files;
* GloVe 6B 50-d, its 100,000 most frequent words (no labels). Earlier defaults were
  measured on this set too (bench/b_pipeline.py), so its row is marked "seen in tuning".

Every set is returned as unit-length float32 rows: cosine and Euclidean rank neighbours
alike on them, so each method may use whichever of the two it runs fastest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.common import RESULTS

WORDNET = Path("/usr/share/wordnet")
CACHE = RESULTS / ".embed_cache"
SETS = ("fashion", "glosses", "glove")


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def fashion() -> tuple[np.ndarray, np.ndarray, str]:
    from explorer.ingest.datasets import fashion_mnist

    parts = [fashion_mnist(split) for split in ("train", "test")]
    x = np.concatenate([p[0].reshape(len(p[0]), -1) for p in parts]).astype(np.float32)
    y = np.concatenate([p[1] for p in parts])
    return _unit(x), y, f"Fashion-MNIST train + test, {len(x):,} × 784 pixels (unit length)"


def gloss_texts() -> tuple[list[str], np.ndarray, list[str]]:
    """Every synset's gloss (examples kept), its lexicographer file number, and names."""
    from explorer.ingest.datasets import LEXNAMES

    names = list(LEXNAMES)
    texts: list[str] = []
    labels: list[int] = []
    for pos in ("noun", "verb", "adj", "adv"):
        for line in (WORDNET / f"data.{pos}").read_text(errors="replace").splitlines():
            if not line or line.startswith("  "):
                continue
            head, _, gloss = line.partition(" | ")
            texts.append(gloss.strip())
            labels.append(int(head.split(" ", 2)[1]))
    return texts, np.asarray(labels, dtype=np.int64), names


def glosses() -> tuple[np.ndarray, np.ndarray, str]:
    """MiniLM vectors of the glosses: embedded once (a few minutes), then read from the
    bench's embedding cache."""
    from explorer.ingest.embed import embed_texts

    texts, labels, _ = gloss_texts()
    enc = embed_texts(
        texts, None, cache_dir=CACHE, progress=lambda f, m: print(f"\r  {m}", end="", flush=True)
    )
    print()
    desc = f"WordNet 3.0 glosses, {len(texts):,} × 384 all-MiniLM-L6-v2 (45 lexicographer files)"
    return _unit(enc.vectors), labels, desc


def glove() -> tuple[np.ndarray, None, str]:
    from bench.data import glove_words

    x, desc = glove_words(100_000)
    return _unit(x), None, desc + " (seen in tuning)"


def load(name: str) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(unit rows, labels or None, description) of a held-out set."""
    return {"fashion": fashion, "glosses": glosses, "glove": glove}[name]()
