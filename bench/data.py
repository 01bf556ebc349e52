"""Real benchmark data: MiniLM-embedded word lists and texts, cached between runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.common import RESULTS

CACHE = RESULTS / ".embed_cache"


def words(n: int) -> list[str]:
    """The n most frequent English words (wordfreq), unique."""
    from wordfreq import top_n_list

    out = list(dict.fromkeys(top_n_list("en", n, wordlist="large")))
    return out[:n]


def minilm_words(n: int) -> tuple[np.ndarray, str]:
    """(n, 384) MiniLM vectors of the n most frequent words (embedded once, then cached)."""
    from explorer.ingest.embed import embed_texts

    w = words(n)
    enc = embed_texts(
        w, None, cache_dir=CACHE, progress=lambda f, m: print(f"\r  {m}", end="", flush=True)
    )
    print()
    return enc.vectors, f"{len(w):,} × 384 MiniLM-embedded English words (wordfreq)"


def lee_texts() -> list[str]:
    import gensim

    path = Path(gensim.__file__).parent / "test" / "test_data" / "lee_background.cor"
    return [t.strip() for t in path.read_text(errors="replace").splitlines() if t.strip()]


def glove_words(n: int) -> tuple[np.ndarray, str]:
    """(n, 50) unit GloVe 6B vectors of its n most frequent words (the file's order)."""
    from bench.common import glove

    _, v = glove()
    x = np.array(v[:n], dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, f"{n:,} × 50 GloVe 6B, its most frequent words, unit length"
