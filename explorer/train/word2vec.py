"""Train gensim's Word2Vec on a corpus and save the words as a normal space.

Training is repeatable: one worker thread and a fixed seed give the same vectors, to
the bit, on the same machine and library versions. The loss is reported per epoch.
gensim only keeps one running total over all epochs, in float32 (so a large total drops
small terms); here it is reset before each job of about 10,000 words and each job's
loss is added up in float64, giving every epoch its own loss.

The saved space is like any other (items = words in frequency order with their counts,
cosine metric), so the Map, Neighbours and Analogies pages work on it; its manifest keeps
a ``training`` record: corpus, parameters, loss per epoch, times and the comparison
with GloVe (:mod:`explorer.train.beside_glove`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.limits import limits
from explorer.core.progress import Progress, stage
from explorer.core.validate import is_int
from explorer.opened.handle import OpenedSpace
from explorer.train.corpus import Corpus, load_corpus

__all__ = [
    "EpochStat",
    "Trained",
    "TrainSummary",
    "Word2VecParams",
    "save_trained",
    "train_and_save",
    "train_job",
    "train_word2vec",
    "training_record",
    "vocabulary_bound",
]

OnEpoch = Callable[["EpochStat"], None]
# The map shows the most frequent words; search and analogies use all of them.
_MAP_ROWS = 20_000


@dataclass(frozen=True)
class Word2VecParams:
    """Word2Vec settings, named as in the papers; gensim's names in brackets.

    Attributes:
        sg: skip-gram (predict the context from a word) instead of CBOW (predict a word
            from its context); skip-gram predicts each context word on its own, so its
            epochs take longer (docs/training.md).
        dim: vector dimensions [vector_size].
        window: the most words on each side that count as context.
        min_count: words seen fewer times are left out of the vocabulary.
        epochs: passes over the corpus; 20, not gensim's 5, because a corpus of half a
            million words needs more (measured on the built-in corpus; see the tests).
        seed: random seed; with one worker the same seed gives the same vectors.
        max_vocab: keep at most this many of the most frequent words [max_final_vocab]
            (None: every word seen min_count times).
        negative: negative samples per positive pair.
        sample: frequent words are randomly skipped above this relative frequency.
    """

    sg: bool = False
    dim: int = 100
    window: int = 5
    min_count: int = 5
    epochs: int = 20
    seed: int = 42
    max_vocab: int | None = None
    negative: int = 5
    sample: float = 1e-3

    def validate(self) -> None:
        """Raise InputError naming the first bad setting and what it may be."""
        if not isinstance(self.sg, bool):
            raise InputError(f"sg must be true (skip-gram) or false (CBOW), not {self.sg!r}.")
        ranges = {
            "dim": (2, 1000, "vector dimensions"),
            "window": (1, 50, "context words on each side"),
            "min_count": (1, 1_000_000, "occurrences a word needs to be kept"),
            "epochs": (1, 200, "passes over the corpus"),
            "negative": (1, 50, "negative samples"),
        }
        for name, (lo, hi, what) in ranges.items():
            v = getattr(self, name)
            if not is_int(v) or not lo <= v <= hi:
                raise InputError(
                    f"{name} ({what}) must be a whole number from {lo:,} to {hi:,}, not {v!r}."
                )
        if not is_int(self.seed) or not 0 <= self.seed < 2**32:
            raise InputError(f"seed must be a whole number from 0 to 2³²-1, not {self.seed!r}.")
        if self.max_vocab is not None and (not is_int(self.max_vocab) or self.max_vocab < 2):
            raise InputError(
                "max_vocab must be empty (every word seen min_count times) or a whole "
                f"number of at least 2, not {self.max_vocab!r}."
            )
        if not isinstance(self.sample, int | float) or not 0.0 <= self.sample < 1.0:
            raise InputError(
                f"sample (down-sampling of frequent words) must be from 0 to below 1, "
                f"not {self.sample!r}."
            )

    @property
    def architecture(self) -> str:
        return "skip-gram" if self.sg else "CBOW"


@dataclass(frozen=True)
class EpochStat:
    """One epoch: its number from 1, its loss (gensim's, summed over the epoch) and time."""

    epoch: int
    loss: float
    seconds: float


@dataclass(frozen=True, eq=False)
class Trained:
    """What training made.

    Attributes:
        words: the vocabulary, most frequent first.
        counts: (n,) int64 occurrences of each word in the corpus.
        vectors: (n, dim) float32, gensim's input vectors (not normalised).
        epochs: per-epoch loss and time.
        tokens: words read in one pass over the corpus (before min_count).
        sentences: sentences in one pass.
        seconds: training time (vocabulary and epochs).
    """

    words: list[str]
    counts: np.ndarray
    vectors: np.ndarray
    params: Word2VecParams
    epochs: list[EpochStat]
    tokens: int
    sentences: int
    seconds: float

    @property
    def losses(self) -> list[float]:
        return [e.loss for e in self.epochs]


class _Reporter:
    """Counts each epoch's loss and words, and reports them as training goes.

    gensim sums the loss in one float32 total (which drops small terms once it is large);
    :func:`_tracked_model` instead resets it before every job of about 10,000 words and
    adds the job's loss here, in float64.
    """

    def __init__(
        self, epochs: int, words: int, progress: Progress | None, on_epoch: OnEpoch | None
    ) -> None:
        self.epochs, self.words = epochs, max(words, 1)
        self.progress, self.on_epoch = progress, on_epoch
        self.stats: list[EpochStat] = []
        self.loss = 0.0
        self.done = 0  # words read in this epoch
        self.started = 0.0

    def begin(self) -> None:
        self.loss, self.done, self.started = 0.0, 0, time.perf_counter()

    def job(self, loss: float, words: int) -> None:
        self.loss += loss
        self.done += words
        if self.progress is not None:
            e = len(self.stats)
            f = (e + min(self.done / self.words, 1.0)) / self.epochs
            last = f" · last epoch's loss {self.stats[-1].loss:,.0f}" if self.stats else ""
            self.progress(0.05 + 0.95 * f, f"Epoch {e + 1}/{self.epochs}{last}")

    def end(self) -> None:
        stat = EpochStat(len(self.stats) + 1, self.loss, time.perf_counter() - self.started)
        self.stats.append(stat)
        if self.on_epoch is not None:
            self.on_epoch(stat)
        if self.progress is not None:
            self.progress(
                0.05 + 0.95 * stat.epoch / self.epochs,
                f"Epoch {stat.epoch}/{self.epochs} · loss {stat.loss:,.0f}",
            )


def _tracked_model(reporter: _Reporter, **kwargs: Any) -> tuple[Any, list[Any]]:
    """A gensim Word2Vec (no corpus yet) whose jobs report to `reporter`, and the
    callbacks to give its ``train`` (which replaces any given before) for the epochs."""
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    class _Tracked(Word2Vec):  # type: ignore[misc]
        def _do_train_job(self, sentences: Any, alpha: float, inits: Any) -> tuple[int, int]:
            # One worker: no other job runs between this reset and the read below.
            self.running_training_loss = 0.0
            tally, raw = super()._do_train_job(sentences, alpha, inits)
            reporter.job(float(self.running_training_loss), int(raw))
            return int(tally), int(raw)

    class _Epochs(CallbackAny2Vec):  # type: ignore[misc]
        def on_epoch_begin(self, model: Any) -> None:
            reporter.begin()

        def on_epoch_end(self, model: Any) -> None:
            reporter.end()

    return _Tracked(**kwargs), [_Epochs()]


def vocabulary_bound(params: Word2VecParams) -> int:
    """The most words a training with `params` keeps (the most frequent): its own
    max_vocab, within the operator's bound on words × dimensions (the model's memory
    grows with both: its input and output vectors, and gensim's tables)."""
    cap = max(2, limits().max_word_vector_cells // params.dim)
    return cap if params.max_vocab is None else min(params.max_vocab, cap)


def train_word2vec(
    corpus: Corpus,
    params: Word2VecParams | None = None,
    *,
    progress: Progress | None = None,
    on_epoch: OnEpoch | None = None,
) -> Trained:
    """Train Word2Vec on `corpus` with one worker (repeatable with `params.seed`).

    Args:
        progress: (fraction 0..1, message) after counting the words, after every job
            of about 10,000 words, and after each epoch (with its loss).
        on_epoch: called with each epoch's :class:`EpochStat` as it ends.

    Raises:
        InputError: bad parameters; fewer than two words seen `min_count` times.
    """
    p = params or Word2VecParams()
    p.validate()
    t0 = time.perf_counter()
    if progress:
        progress(0.0, "Counting words")
    reporter = _Reporter(p.epochs, 0, progress, on_epoch)
    model, callbacks = _tracked_model(
        reporter,
        vector_size=p.dim,
        window=p.window,
        min_count=p.min_count,
        max_final_vocab=vocabulary_bound(p),
        sg=int(p.sg),
        negative=p.negative,
        sample=p.sample,
        seed=p.seed,
        workers=1,  # more threads interleave updates in a different order each run
        compute_loss=True,
    )
    sentences = corpus.sentences()
    model.build_vocab(sentences)
    n = len(model.wv)
    if n < 2:
        raise InputError(
            f"Only {n} word(s) occur at least {p.min_count} times in {corpus.name!r} "
            f"({model.corpus_total_words:,} words in all): lower min_count, or use a "
            "larger corpus."
        )
    reporter.words = max(int(model.corpus_total_words), 1)
    if progress:
        capped = " (the most frequent; the server's bound)" if n == vocabulary_bound(p) else ""
        progress(0.05, f"{n:,} words in the vocabulary{capped}; training {p.architecture}")
    model.train(
        sentences,
        total_examples=model.corpus_count,
        epochs=p.epochs,
        compute_loss=True,
        callbacks=callbacks,
    )
    words = [str(w) for w in model.wv.index_to_key]
    return Trained(
        words=words,
        counts=np.asarray([model.wv.get_vecattr(w, "count") for w in words], dtype=np.int64),
        vectors=np.asarray(model.wv.vectors, dtype=np.float32).copy(),
        params=p,
        epochs=reporter.stats,
        tokens=int(model.corpus_total_words),
        sentences=int(model.corpus_count),
        seconds=time.perf_counter() - t0,
    )


@dataclass
class TrainSummary:
    """What :func:`train_and_save` did, for the CLI's JSON and the page."""

    folder: str
    vocab: int
    dim: int
    epochs: int
    losses: list[float]
    tokens: int
    seconds: dict[str, float]
    corpus: dict[str, Any]
    params: dict[str, Any]
    comparison: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def _record(
    trained: Trained, corpus: Corpus, comparison: dict[str, Any] | None, notes: list[str]
) -> dict[str, Any]:
    """The ``training`` record a trained space keeps in its manifest (JSON-able)."""
    return {
        "trainer": "word2vec",
        "corpus": corpus.record(),
        "params": asdict(trained.params),
        "tokens": trained.tokens,
        "sentences": trained.sentences,
        "vocab": len(trained.words),
        "epochs": [asdict(e) for e in trained.epochs],
        "seconds": round(trained.seconds, 3),
        "comparison": comparison,
        "notes": notes,
    }


def save_trained(
    trained: Trained,
    corpus: Corpus,
    out: Path,
    *,
    comparison: dict[str, Any] | None = None,
    notes: list[str] | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Save `trained` as a space in `out` with :func:`explorer.ingest.build.build_space`.

    Raises:
        SpaceExists: a space of that name exists and `overwrite` is False.
    """
    from explorer.ingest.build import build_space

    n = len(trained.words)
    items = pd.DataFrame(
        {
            "id": trained.words,
            "text": trained.words,
            "count": trained.counts,
            "frequency_rank": np.arange(1, n + 1),
        }
    )
    title = f"Word2Vec ({trained.params.architecture}) on {corpus.name}"
    record = _record(trained, corpus, comparison, list(notes or []))
    _, _, summary = build_space(
        items,
        trained.vectors,
        Path(out),
        metric="cosine",
        map_rows=_MAP_ROWS if n > _MAP_ROWS else None,
        source={
            "kind": "trained",
            "trainer": "word2vec",
            "title": title,
            "corpus": corpus.record(),
            "params": asdict(trained.params),
        },
        notes=list(corpus.notes),
        extra={"title": title, "description": _description(trained, corpus), "training": record},
        overwrite=overwrite,
        progress=progress,
    )
    return Path(summary.folder)


def _description(trained: Trained, corpus: Corpus) -> str:
    p = trained.params
    return (
        f"{len(trained.words):,} words × {p.dim} dims, {p.architecture}, window {p.window}, "
        f"{p.epochs} epochs, trained on {trained.tokens:,} tokens of {corpus.name}."
    )


def train_and_save(
    corpus: Corpus,
    params: Word2VecParams,
    out: Path,
    *,
    compare: bool = True,
    overwrite: bool = False,
    progress: Progress | None = None,
    on_epoch: OnEpoch | None = None,
) -> TrainSummary:
    """Train, compare with GloVe (when `compare` and GloVe is installed), and save.

    The name is checked before training, so a clash fails at once, not after it.

    Raises:
        SpaceExists: `out` names an existing space and `overwrite` is False.
        InputError: bad parameters, a corpus with too few words.
    """
    from explorer.core.store import refuse_clash

    params.validate()
    out = Path(out)
    refuse_clash(out, overwrite)
    trained = train_word2vec(corpus, params, progress=stage(progress, 0.0, 0.85), on_epoch=on_epoch)
    notes: list[str] = []
    seconds = {"train": round(trained.seconds, 3)}
    t = time.perf_counter()
    comparison = _compare(trained, compare, notes, stage(progress, 0.85, 0.9))
    if compare:
        seconds["compare"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    folder = save_trained(
        trained,
        corpus,
        out,
        comparison=comparison,
        notes=notes,
        overwrite=overwrite,
        progress=stage(progress, 0.9, 1.0),
    )
    return TrainSummary(
        folder=str(folder),
        vocab=len(trained.words),
        dim=trained.params.dim,
        epochs=trained.params.epochs,
        losses=trained.losses,
        tokens=trained.tokens,
        seconds={**seconds, "save": round(time.perf_counter() - t, 3)},
        corpus=corpus.record(),
        params=asdict(trained.params),
        comparison=comparison,
        notes=[*corpus.notes, *notes],
    )


def _compare(
    trained: Trained, compare: bool, notes: list[str], progress: Progress | None
) -> dict[str, Any] | None:
    """The GloVe comparison as a dict, or None (with a note) when it cannot be made."""
    if not compare:
        return None
    from explorer.train.beside_glove import compare_with_glove

    if progress:
        progress(0.0, "Comparing with GloVe")
    try:
        return compare_with_glove(trained.words, trained.vectors).to_dict()
    except InputError as exc:
        notes.append(f"No comparison with GloVe: {exc}")
        return None


def train_job(
    corpus: str,
    out: str,
    params: dict[str, Any],
    options: dict[str, Any],
    *,
    progress: Progress,
) -> dict[str, Any]:
    """The app's job (``explorer.runtime.jobs``): train on `corpus` ("builtin" or a file) into
    `out`. `options`: ``max_tokens``, ``text_col``, ``overwrite``, ``compare``.
    Returns the :class:`TrainSummary` as a dict."""
    text = load_corpus(
        corpus, text_col=options.get("text_col"), max_tokens=options.get("max_tokens")
    )
    summary = train_and_save(
        text,
        Word2VecParams(**params),
        Path(out),
        compare=bool(options.get("compare", True)),
        overwrite=bool(options.get("overwrite", False)),
        progress=progress,
    )
    return asdict(summary)


def training_record(opened: OpenedSpace) -> dict[str, Any] | None:
    """The ``training`` record of a trained space's manifest, or None for other spaces."""
    record = opened.manifest().get("training")
    return record if isinstance(record, dict) else None
