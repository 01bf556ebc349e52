"""``python -m explorer train TRAINER ...``: train a space from data (one sub-command each).

``train word2vec CORPUS --out DIR`` trains Word2Vec on a .txt (one document per line),
a table's text column, or ``builtin`` (:mod:`explorer.train.corpus`), prints each
epoch's loss on stderr (unless --json) and saves a normal space in DIR. Trainers to
come (``simclr``, ``clip``) add their own sub-command in :func:`register`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

from .cli_common import Add, defaults, out
from .errors import InputError

__all__ = ["cmd_word2vec", "register"]


def register(add: Add) -> None:
    """Add the ``train`` command and its trainers."""
    from .train.word2vec import Word2VecParams

    t = add("train", _need_trainer, "train an embedding space from data")
    trainers = t.add_subparsers(dest="trainer", metavar="TRAINER", required=True)
    d = defaults(Word2VecParams)
    w = trainers.add_parser("word2vec", help="Word2Vec word vectors from a text corpus")
    # Also after the trainer's name; SUPPRESS keeps a --json given before it.
    w.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    w.set_defaults(fn=cmd_word2vec)
    w.add_argument("corpus", help="a .txt (one document per line), a table, or 'builtin'")
    w.add_argument("--out", required=True, help="the folder of the new space")
    arch = w.add_mutually_exclusive_group()
    arch.add_argument("--sg", action="store_true", default=d["sg"], help="skip-gram")
    arch.add_argument("--cbow", dest="sg", action="store_false", help="CBOW (the default)")
    w.add_argument("--dim", type=int, default=d["dim"])
    w.add_argument("--window", type=int, default=d["window"])
    w.add_argument("--min-count", type=int, default=d["min_count"])
    w.add_argument("--epochs", type=int, default=d["epochs"])
    w.add_argument("--seed", type=int, default=d["seed"])
    w.add_argument("--max-vocab", type=int, default=d["max_vocab"])
    w.add_argument("--negative", type=int, default=d["negative"])
    w.add_argument("--sample", type=float, default=d["sample"])
    w.add_argument("--max-tokens", type=int, help="train on the first N tokens only")
    w.add_argument("--text-col", help="the text column of a table")
    w.add_argument("--no-compare", action="store_true", help="skip the comparison with GloVe")
    w.add_argument("--overwrite", action="store_true", help="replace a space saved under --out")


def _need_trainer(args: argparse.Namespace) -> None:
    # Not reached: argparse requires a trainer, whose own function replaces this one.
    raise InputError("Name a trainer: python -m explorer train word2vec CORPUS --out DIR")


def _epoch_line(stat: Any) -> None:
    """One line per epoch on stderr: its number, loss and time."""
    print(
        f"epoch {stat.epoch:>3}  loss {stat.loss:>14,.1f}  {stat.seconds:6.2f} s", file=sys.stderr
    )


def cmd_word2vec(args: argparse.Namespace) -> None:
    """Train Word2Vec on CORPUS and save the space in --out."""
    from pathlib import Path

    from .train.corpus import load_corpus
    from .train.word2vec import Word2VecParams, train_and_save

    params = Word2VecParams(
        sg=args.sg,
        dim=args.dim,
        window=args.window,
        min_count=args.min_count,
        epochs=args.epochs,
        seed=args.seed,
        max_vocab=args.max_vocab,
        negative=args.negative,
        sample=args.sample,
    )
    params.validate()  # before reading the corpus
    corpus = load_corpus(args.corpus, text_col=args.text_col, max_tokens=args.max_tokens)
    summary = train_and_save(
        corpus,
        params,
        Path(args.out),
        compare=not args.no_compare,
        overwrite=args.overwrite,
        on_epoch=None if args.json else _epoch_line,
    )
    total = sum(summary.seconds.values())
    text = [
        f"Trained {summary.vocab:,} words × {summary.dim} dims on {summary.tokens:,} tokens "
        f"in {total:.1f} s; saved in {summary.folder}",
        *summary.notes,
    ]
    if summary.comparison:
        from .train.compare import Comparison

        text += Comparison.from_dict(summary.comparison).lines()
    out(args, asdict(summary), "\n".join(text))
