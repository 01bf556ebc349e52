"""``python -m explorer retrieval`` and ``align``: retrieval benchmarks, cross-lingual maps."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from explorer.cli.common import Add, opened_space, out, progress
from explorer.core.errors import InputError

__all__ = ["cmd_align", "cmd_retrieval", "register"]


def register(add: Add) -> None:
    """Add the ``retrieval`` and ``align`` commands."""
    r = add("retrieval", cmd_retrieval, "recall@k, MRR@10, nDCG@10 of queries with judgements")
    r.add_argument("dir")
    r.add_argument("--queries", help="queries table: query_id, text (CSV, TSV, JSONL)")
    r.add_argument("--qrels", help="judgements: query_id, item_id, relevance (BEIR or TREC)")
    r.add_argument(
        "--reverse-dictionary",
        action="store_true",
        help="the built-in benchmark: WordNet definitions as queries, their words as answers",
    )
    r.add_argument("--n-queries", type=int, default=200, help="with --reverse-dictionary")
    r.add_argument("--seed", type=int, default=0, help="with --reverse-dictionary")
    r.add_argument("-k", type=int, default=10, help="the recall cut-off")
    a = add(
        "align", cmd_align, "align two word-vector spaces with a rotation; translation accuracy"
    )
    a.add_argument("--source", help="source word vectors (default: gensim's English test vectors)")
    a.add_argument("--target", help="target word vectors (default: gensim's Italian test vectors)")
    a.add_argument("--pairs", help="translation pairs, 'source target' per line")
    a.add_argument("--test-fraction", type=float, default=0.3, help="share of pairs held out")
    a.add_argument("--seed", type=int, default=0)


def cmd_retrieval(args: argparse.Namespace) -> None:
    from explorer.analysis.retrieval import (
        evaluate_retrieval,
        read_qrels,
        read_queries,
        reverse_dictionary,
    )

    opened = opened_space(args.dir)

    space = opened.space

    index = opened.index
    if args.reverse_dictionary:
        if args.queries or args.qrels:
            raise InputError("Give --reverse-dictionary or --queries and --qrels, not both.")
        queries, qrels = reverse_dictionary(space, args.n_queries, args.seed)
    elif args.queries and args.qrels:
        queries, qrels = read_queries(args.queries), read_qrels(args.qrels)
    else:
        raise InputError("Give --queries FILE and --qrels FILE, or --reverse-dictionary.")
    ev = evaluate_retrieval(space, index, queries, qrels, args.k, progress(args))
    if progress(args):
        print(file=sys.stderr)
    data = ev.as_dict()
    rows = [("index", ev.index.as_dict()), ("exact", ev.exact.as_dict()), ("effect", ev.effect)]
    text = [f"{ev.index.queries:,} queries, k={args.k} ({ev.how})"]
    for name, d in rows:
        f = "+.4f" if name == "effect" else ".4f"
        text.append(
            f"  {name:<7} recall@{args.k} {d['recall@k']:{f}}  MRR@10 {d['mrr@10']:{f}}  "
            f"nDCG@10 {d['ndcg@10']:{f}}"
        )
    text += [f"  {n}" for n in ev.notes]
    out(args, data, "\n".join(text))


def cmd_align(args: argparse.Namespace) -> None:
    from explorer.analysis.crosslingual import align_en_it

    given = [args.source, args.target, args.pairs]
    if any(given) and not all(given):
        raise InputError("Give all of --source, --target and --pairs, or none (the example).")
    paths = (Path(args.source), Path(args.target), Path(args.pairs)) if all(given) else None
    res = align_en_it(args.test_fraction, args.seed, paths)
    data = {
        k: v
        for k, v in asdict(res).items()
        if k not in ("rotation", "examples", "accuracy_at_1", "accuracy_at_5")
    }
    data["accuracy@1"], data["accuracy@5"] = res.accuracy_at_1, res.accuracy_at_5
    data["examples"] = [{"source": s, "target": t, "nearest": list(n)} for s, t, n in res.examples]
    text = [
        f"accuracy@1 {res.accuracy_at_1:.3f}, accuracy@5 {res.accuracy_at_5:.3f} on "
        f"{res.test_pairs} held-out pairs (rotation learnt on {res.train_pairs}; "
        f"{res.targets:,} target words searched)"
    ]
    text += [f"  {s} → {t}: {', '.join(n)}" for s, t, n in res.examples[:10]]
    out(args, data, "\n".join(text))
