"""``python -m explorer zeroshot``: label every item with the nearest of some categories."""

from __future__ import annotations

import argparse
from typing import Any

from explorer.cli.common import Add, opened_space, out, progress
from explorer.core.errors import InputError

__all__ = ["cmd_zeroshot", "register"]


def register(add: Add) -> None:
    """Add the ``zeroshot`` command."""
    z = add("zeroshot", cmd_zeroshot, "zero-shot labels from category names, scored by a column")
    z.add_argument("dir")
    z.add_argument(
        "--labels",
        required=True,
        help='categories, comma-separated; each NAME or NAME=DESCRIPTION ("animal,food")',
    )
    z.add_argument("--truth", help="a column of true categories to score the labels against")
    z.add_argument("--examples", type=int, default=3, help="items shown per category")
    z.add_argument(
        "--modality",
        help="score only items of this modality (image spaces: 'image', the default there)",
    )


def cmd_zeroshot(args: argparse.Namespace) -> None:
    from explorer.analysis.zeroshot import evaluate_zero_shot, truth_column, zero_shot

    space = opened_space(args.dir).space
    if args.truth is not None and args.truth not in space.metadata_columns:
        raise InputError(
            f"No column {args.truth!r}. Columns: {', '.join(space.metadata_columns) or 'none'}."
        )
    res = zero_shot(space, args.labels, progress=progress(args))
    counts = res.counts()
    examples = {
        lab.name: [str(space.display_text[r])[:80] for r in res.closest(lab.name, args.examples)]
        for lab in res.labels
    }
    data: dict[str, Any] = {
        "labels": [lab.name for lab in res.labels],
        "counts": {k: int(v) for k, v in counts.items()},
        "how": res.how,
        "examples": examples,
        "accuracy": None,
        "macro_f1": None,
        "majority_baseline": None,
        "random_baseline": None,
        "confusion": None,
    }
    lines = [f"{len(res.labels)} categories ({res.how})"]
    lines += [f"  {k:<24} {int(v):>8,}  {' · '.join(examples[k])}" for k, v in counts.items()]
    if args.truth is not None:
        truth, modality = truth_column(space, args.truth, args.modality)
        ev = evaluate_zero_shot(res, truth)
        data.update(
            accuracy=ev.accuracy,
            macro_f1=ev.macro_f1,
            majority_baseline=ev.majority_baseline,
            random_baseline=ev.random_baseline,
            confusion={
                t: {p: int(c) for p, c in row.items()} for t, row in ev.confusion.iterrows()
            },
            evaluated=ev.evaluated,
            left_out=ev.left_out,
            modality=modality,
        )
        lines.append(
            f"against {args.truth}: accuracy {ev.accuracy:.3f}, macro-F1 {ev.macro_f1:.3f}; "
            f"majority class ({ev.majority}) {ev.majority_baseline:.3f}, random "
            f"{ev.random_baseline:.3f}; {ev.evaluated:,} items scored, {ev.left_out:,} left out"
        )
    out(args, data, "\n".join(lines))
