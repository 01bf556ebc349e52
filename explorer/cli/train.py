"""``python -m explorer train TRAINER ...``: train a space from data (one sub-command each).

``train word2vec CORPUS --out DIR`` trains Word2Vec on a .txt (one document per line),
a table's text column, or ``builtin`` (:mod:`explorer.train.corpus`), prints each
epoch's loss on stderr (unless --json) and saves a normal space in DIR.

``train simclr IMAGES --out DIR`` learns an image space by contrastive learning;
``train clip IMAGES --captions FILE --out DIR`` trains a teaching-size image encoder
against the frozen MiniLM text space. IMAGES is ``fashion-mnist`` (built in), or a
folder, .zip or .npy of images (:mod:`explorer.train.image_jobs`).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

from explorer.cli.common import Add, defaults, out, progress
from explorer.core.errors import InputError

__all__ = ["cmd_clip", "cmd_simclr", "cmd_word2vec", "register"]


def register(add: Add) -> None:
    """Add the ``train`` command and its trainers."""
    from explorer.train.word2vec import Word2VecParams

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
    _add_image_trainers(trainers)


def _image_parser(trainers: Any, name: str, fn: Any, help: str, limit: int) -> Any:
    """A trainer of images: IMAGES, --out, --epochs, --seed, --limit, --overwrite, --json."""
    p = trainers.add_parser(name, help=help)
    p.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    p.set_defaults(fn=fn)
    p.add_argument("images", help="'fashion-mnist' (built in), or a folder, .zip or .npy of images")
    p.add_argument("--out", required=True, help="the folder of the new space")
    p.add_argument("--epochs", type=int, help="passes over the images (default: the trainer's)")
    p.add_argument("--seed", type=int, help="random seed (default: the trainer's)")
    p.add_argument("--limit", type=int, default=limit, help="use at most this many images")
    p.add_argument("--overwrite", action="store_true", help="replace a space saved under --out")
    return p


def _add_image_trainers(trainers: Any) -> None:
    _image_parser(
        trainers, "simclr", cmd_simclr, "an image space by contrastive learning (SimCLR)", 10_000
    )
    c = _image_parser(
        trainers, "clip", cmd_clip, "a teaching-size CLIP against frozen MiniLM text", 6_000
    )
    c.add_argument("--captions", help="CSV of file name and caption (not for fashion-mnist)")


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

    from explorer.train.corpus import load_corpus
    from explorer.train.word2vec import Word2VecParams, train_and_save

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
        from explorer.train.beside_glove import Comparison

        text += Comparison.from_dict(summary.comparison).lines()
    out(args, asdict(summary), "\n".join(text))


def _params(cls: Any, args: argparse.Namespace) -> Any:
    """`cls` (a trainer's params) with --epochs and --seed where given."""
    given = {k: getattr(args, k) for k in ("epochs", "seed") if getattr(args, k) is not None}
    return cls(**given)


def cmd_simclr(args: argparse.Namespace) -> None:
    """Train SimCLR on IMAGES and save the learned space in --out."""
    from pathlib import Path

    from explorer.train.image_jobs import train_simclr_space
    from explorer.train.simclr import SimCLRParams

    prog = progress(args)
    summary = train_simclr_space(
        args.images,
        Path(args.out),
        _params(SimCLRParams, args),
        limit=args.limit,
        overwrite=args.overwrite,
        progress=prog,
    )
    text = [
        f"Trained SimCLR on {summary['n']:,} images in {summary['seconds']:.0f} s "
        f"(estimated {summary['estimate_s']:.0f} s); saved in {summary['folder']}"
    ]
    for row in summary.get("comparison") or []:
        text.append(
            f"  {row['name']:<24} kNN accuracy {row['knn_accuracy']:.3f}  ARI {row['ari']:.3f}  "
            f"trustworthiness {row['trustworthiness']:.3f}"
        )
    if prog:
        print(file=sys.stderr)
    out(args, summary, "\n".join(text))


def cmd_clip(args: argparse.Namespace) -> None:
    """Train the teaching-size CLIP on IMAGES (+ --captions) and save the space in --out."""
    from pathlib import Path

    from explorer.train.clip import ClipParams
    from explorer.train.image_jobs import train_clip_space

    prog = progress(args)
    summary = train_clip_space(
        args.images,
        Path(args.out),
        _params(ClipParams, args),
        captions=Path(args.captions) if args.captions else None,
        limit=args.limit,
        overwrite=args.overwrite,
        progress=prog,
    )
    s = summary["scores"]
    text = [
        f"Trained on images in {summary['seconds']:.0f} s; {summary['n']:,} items saved in "
        f"{summary['folder']}",
        f"Held-out images: {s['n_images']:,}, {s['n_classes']} classes (class-level figures)",
        "  text→image " + "  ".join(f"{k} {v:.3f}" for k, v in s["recall_t2i"].items()),
        "  image→text " + "  ".join(f"{k} {v:.3f}" for k, v in s["recall_i2t"].items()),
        f"  zero-shot accuracy {s['zeroshot_accuracy']:.3f} (chance {s['chance']:.3f}, "
        f"majority class {s['majority']:.3f})",
        summary["note"],
    ]
    if prog:
        print(file=sys.stderr)
    out(args, summary, "\n".join(text))
