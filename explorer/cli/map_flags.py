"""The map's flags, one set for every command that makes or reads a map (``project``,
``export``): each takes every map the Map page can show, with the same names."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from explorer.cli.common import defaults

if TYPE_CHECKING:
    from explorer.maps.projections import ProjectionParams

__all__ = ["add_map_flags", "map_params"]


def add_map_flags(p: argparse.ArgumentParser) -> None:
    """--method, --dims, the UMAP and t-SNE settings, --seed, --repeatable and the
    semantic axes' terms."""
    from explorer.maps.projections import METHODS, ProjectionParams

    pd_ = defaults(ProjectionParams)
    p.add_argument("--method", choices=METHODS, default=pd_["method"], help="the map's method")
    p.add_argument("--dims", type=int, choices=[2, 3], default=pd_["dims"])
    p.add_argument("--n-neighbors", type=int, default=pd_["n_neighbors"])
    p.add_argument("--min-dist", type=float, default=pd_["min_dist"])
    p.add_argument("--perplexity", type=float, default=pd_["perplexity"])
    p.add_argument("--seed", type=int, default=pd_["seed"])
    p.add_argument(
        "--repeatable",
        action="store_true",
        help="UMAP on one core: the same map for the same seed on every run (slower)",
    )
    for axis in ("x", "y"):
        for end in ("from", "to"):
            p.add_argument(
                f"--{axis}-{end}",
                nargs="+",
                metavar="TERM",
                help=f"--method axis: terms at the {end} end of {axis} (items or free text)",
            )
    p.add_argument("--not-orthogonal", action="store_true", help="--method axis: keep y as given")


def map_params(args: argparse.Namespace) -> ProjectionParams:
    """The map the flags name, validated (an InputError names the first bad flag)."""
    from explorer.maps.projections import ProjectionParams

    params = ProjectionParams(
        method=args.method,
        dims=args.dims,
        n_neighbors=args.n_neighbors,
        min_dist=args.min_dist,
        perplexity=args.perplexity,
        seed=args.seed,
        parallel=not args.repeatable,
        x_from=", ".join(args.x_from or []),
        x_to=", ".join(args.x_to or []),
        y_from=", ".join(args.y_from or []),
        y_to=", ".join(args.y_to or []),
        orthogonal=not args.not_orthogonal,
    )
    params.validate()
    return params
