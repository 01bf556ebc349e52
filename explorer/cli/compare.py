"""``python -m explorer compare DIR_A DIR_B``: two spaces of the same items side by side.

Found by ``explorer.cli`` (``register``); the figures come from ``explorer.analysis.compare``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from explorer.cli.common import Add, opened_space, out, progress

__all__ = ["register"]


def cmd_compare(args: argparse.Namespace) -> None:
    from explorer.analysis.compare import CompareParams, compare_opened
    from explorer.maps.projections import ProjectionParams

    params = CompareParams(k=args.k, cka_sample=args.sample, seed=args.seed, n_listed=args.listed)
    maps = None
    if args.map:
        chosen = ProjectionParams(method=args.map)
        maps = (chosen, chosen)
    analogies = args.analogies
    if analogies == "google":
        from explorer.analysis.evaluate import google_analogies_path

        analogies = str(google_analogies_path())
    res = compare_opened(
        opened_space(args.dir_a),
        opened_space(args.dir_b),
        params,
        map_params=maps,
        analogies=analogies,
        progress=progress(args),
    )
    if progress(args):
        print(file=sys.stderr)
    out(args, res.summary(), _text(res.summary()))


def _fig(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"


def _text(s: dict[str, Any]) -> str:
    lines = [
        f"{s['shared']:,} shared items ({s['only_a']:,} only in A, {s['only_b']:,} only in B)",
        f"mean Jaccard@{s['k']} of neighbours {_fig(s['mean_jaccard'])} "
        f"(median {_fig(s['median_jaccard'])}, {s['compared']:,} items)",
        f"linear CKA {_fig(s['cka'])} on {s['cka_items']:,} items",
        f"ARI of the clusterings {_fig(s['ari'])} on {s['ari_items']:,} items",
        f"map disparity after alignment {_fig(s['map_disparity'])} (0 = the same picture)",
    ]
    if s["analogies"]:
        an = s["analogies"]
        lines.append(
            f"analogy accuracy A {an['accuracy_a']:.3f} ({an['answered_a']:,} answered), "
            f"B {an['accuracy_b']:.3f} ({an['answered_b']:,}) on {an['vocabulary']:,} shared words"
        )
    lines.append("most changed (Jaccard, id):")
    lines += [f"  {c['jaccard']:.2f}  {c['id']}" for c in s["most_changed"]]
    lines += [f"  {n}" for n in s["notes"]]
    return "\n".join(lines)


def register(add: Add) -> None:
    """Add the ``compare`` command."""
    from explorer.analysis.compare import CompareParams
    from explorer.cli.common import defaults
    from explorer.maps.projections import METHODS

    d = defaults(CompareParams)
    c = add("compare", cmd_compare, "compare two spaces of the same items (matched by id)")
    c.add_argument("dir_a", metavar="DIR_A")
    c.add_argument("dir_b", metavar="DIR_B")
    c.add_argument("-k", type=int, default=d["k"], help="neighbours per item for Jaccard@k")
    c.add_argument(
        "--sample", type=int, default=d["cka_sample"], help="CKA on at most this many items"
    )
    c.add_argument("--seed", type=int, default=d["seed"], help="seed of the CKA sample")
    c.add_argument(
        "--listed", type=int, default=d["n_listed"], help="items listed as most/least changed"
    )
    c.add_argument(
        "--map", choices=METHODS, help="map method of both spaces (default: each one's own)"
    )
    c.add_argument(
        "--analogies",
        metavar="FILE",
        help="word spaces: analogy accuracy of each on the shared words ('google': Google's set)",
    )
