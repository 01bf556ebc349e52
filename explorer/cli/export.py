"""``python -m explorer export``: a space's table, map or projector bundle, as files.

The map is the stored one of the given parameters (made and stored if missing), and
the clustering the pages show by default (or the one asked for), as ``project`` and
``cluster`` make them; the files are written by :mod:`explorer.render.export_files`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.cli.common import Add, defaults, opened_space, out, progress
from explorer.core.errors import InputError

if TYPE_CHECKING:
    from explorer.render.map_style import MapView

__all__ = ["cmd_export", "register"]


def register(add: Add) -> None:
    """Add the ``export`` command."""
    from explorer.cli.map_flags import add_map_flags
    from explorer.cluster.clusterings import ALGORITHMS, ClusterParams
    from explorer.render.export import FORMATS

    cd_ = defaults(ClusterParams)
    e = add("export", cmd_export, "write a space's table, map or projector bundle to files")
    e.add_argument("dir")
    e.add_argument("--format", choices=FORMATS, required=True)
    e.add_argument(
        "--out", required=True, help="the file to write (a folder for --format projector)"
    )
    add_map_flags(e)  # every map the Map page shows, as `project` names it
    e.add_argument(
        "--clusters",
        choices=[*ALGORITHMS, "none"],
        default=cd_["algorithm"],
        help="the clustering in the table and the map's colours",
    )
    e.add_argument("-k", "--n-clusters", dest="k", type=int, default=cd_["n_clusters"])
    e.add_argument(
        "--colour",
        help="colour the map by this column, 'cluster' or 'none' (default: as the Map page)",
    )
    e.add_argument(
        "--names",
        choices=["broad", "each", "none"],
        default="broad",
        help="names written on a 2-D map coloured by cluster: broad regions (as the Map "
        "page opens), each cluster, or none",
    )
    e.add_argument(
        "--map-only", action="store_true", help="only the items on the map (the first map_rows)"
    )
    e.add_argument("--overwrite", action="store_true", help="replace existing output files")


def _view(args: argparse.Namespace) -> MapView:
    """The Map page's view settings that the command's options name."""
    from explorer.render.map_style import NONE, MapView

    colour = NONE if args.colour == "none" else args.colour
    names = args.names != "none"
    if args.names == "each":
        return MapView(colour_by=colour, names=names, level="each cluster")
    return MapView(colour_by=colour, names=names, level="broad regions")


def cmd_export(args: argparse.Namespace) -> None:
    from explorer.cli.map_flags import map_params
    from explorer.cluster.clusterings import ClusterParams
    from explorer.render import export, projector
    from explorer.render.export_files import write_export

    target = Path(args.out)
    if args.format == "projector":
        paths = [target / name for name in projector.PROJECTOR_FILES]
    else:
        paths = [target]
    export.check_free(paths, args.overwrite)  # before any work
    params = map_params(args)  # read once: the map and its axis titles share it
    opened = opened_space(args.dir)
    space = opened.space
    if args.colour is not None and args.colour not in ("cluster", "none", *space.metadata_columns):
        raise InputError(
            f"No column {args.colour!r} to colour by; choose 'cluster', 'none' or one of "
            f"{', '.join(space.metadata_columns) or '(no columns)'}."
        )
    n_rows = space.n_map if args.map_only else space.n
    clusters = None
    if args.clusters != "none":
        clusters = ClusterParams(algorithm=args.clusters, n_clusters=args.k)
    written = write_export(
        opened,
        target,
        args.format,
        params,
        clusters,
        _view(args),
        map_only=args.map_only,
        overwrite=args.overwrite,
        progress=progress(args),
    )
    if progress(args):
        print(file=sys.stderr)
    if args.format in ("html", "png", "svg"):
        n_rows = space.n_map
    names = [str(p) for p in written]
    files = [{"path": name, "bytes": b} for name, b in zip(names, written.values(), strict=True)]
    total = sum(written.values())
    note = ""
    if args.format == "projector" and space.metric != "cosine":
        note = (
            f"\n  The space's metric is {space.metric}; build it back with --metric {space.metric}."
        )
    out(
        args,
        {"format": args.format, "files": files, "rows": n_rows, "bytes": total},
        f"Wrote {args.format} of {n_rows:,} items ({total:,} bytes):\n  "
        + "\n  ".join(names)
        + note,
    )
