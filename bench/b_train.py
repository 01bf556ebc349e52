"""Full-size training figures: Word2Vec by corpus size, and the teaching-size CLIP.

``python -m bench.b_train [word2vec] [clip]`` prints Markdown tables (the figures in
docs/training.md come from here). Each row trains from scratch in this process; times
are one run's wall clock on this machine (quality figures, not a timing benchmark).
SimCLR's figures come from ``python -m bench.b_simclr``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine


def word2vec_sizes(sizes: tuple[int, ...] = (68_000, 137_000, 274_000, 0)) -> None:
    """Word2Vec (defaults) on the first N tokens of the built-in corpus, beside GloVe."""
    from explorer.train.beside_glove import compare_with_glove
    from explorer.train.corpus import load_corpus
    from explorer.train.word2vec import Word2VecParams, train_word2vec

    print("| tokens | words | train s | overlap@10 with GloVe | analogies (ours) | GloVe |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        corpus = load_corpus("builtin", max_tokens=n or None)
        trained = train_word2vec(corpus, Word2VecParams())
        cmp = compare_with_glove(trained.words, trained.vectors)
        ours = f"{cmp.analogy_trained:.1%}" if cmp.analogy_trained is not None else "—"
        ref = f"{cmp.analogy_reference:.1%}" if cmp.analogy_reference is not None else "—"
        print(
            f"| {trained.tokens:,} | {len(trained.words):,} | {trained.seconds:.1f} | "
            f"{cmp.overlap:.3f} | {ours} | {ref} ({cmp.analogy_questions:,} questions) |"
        )


def clip_sizes(limits: tuple[int, ...] = (2_000, 6_000, 20_000)) -> None:
    """The teaching-size CLIP (default settings) by number of training images."""
    from explorer.train.image_jobs import train_clip_space

    print(
        "| training images | train s | zero-shot | chance | t→i R@1 | t→i R@5 | i→t R@1 | "
        "i→t R@5 | i→t R@10 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in limits:
            t = time.perf_counter()
            res = train_clip_space("fashion-mnist", Path(tmp) / f"clip-{n}", limit=n)
            s = res["scores"]
            t2i, i2t = s["recall_t2i"], s["recall_i2t"]
            print(
                f"| {n:,} | {res['seconds']:.0f} (all {time.perf_counter() - t:.0f}) | "
                f"{s['zeroshot_accuracy']:.1%} | {s['chance']:.0%} | {t2i['recall@1']:.3f} | "
                f"{t2i['recall@5']:.3f} | {i2t['recall@1']:.3f} | {i2t['recall@5']:.3f} | "
                f"{i2t['recall@10']:.3f} |"
            )


def main(argv: list[str]) -> None:
    which = set(argv) or {"word2vec", "clip"}
    print(f"Machine: {machine()}\n")
    if "word2vec" in which:
        word2vec_sizes()
        print()
    if "clip" in which:
        clip_sizes()


if __name__ == "__main__":
    main(sys.argv[1:])
