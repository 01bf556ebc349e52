"""Questions asked of a space: neighbours and analogies (``probes``), analogy and
similarity benchmarks (``evaluate``), two spaces side by side (``compare``), zero-shot
labels (``zeroshot``), retrieval benchmarks (``retrieval``) and aligning two languages
(``crosslingual``).
"""

__all__ = [
    "compare",
    "crosslingual",
    "evaluate",
    "probes",
    "retrieval",
    "zeroshot",
]
