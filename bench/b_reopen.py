"""Target 3: reopening a built 100k space to an interactive map.

Measured as the app does it, in a running process: open the space folder, load
the stored map and clusters, and build the figure with its JSON (what the browser
receives). The baseline recomputes the map from the vectors, as a tool without
stored steps must.
"""

from __future__ import annotations

import sys

from bench.common import Row, once, timed


def _prepare(quick: bool):  # type: ignore[no-untyped-def]
    from bench.spaces import synthetic_space
    from explorer.cluster.clusterings import ClusterParams, cluster_space
    from explorer.maps.projections import ProjectionParams, project_space
    from explorer.opened.handle import open_space

    n = 20_000 if quick else 100_000
    folder, desc = synthetic_space(n)
    opened = open_space(folder)
    opened.index  # noqa: B018 - opened as the app opens it
    project_space(opened, ProjectionParams())
    cluster_space(opened, ClusterParams())
    return folder, desc


def reopen(folder) -> int:  # type: ignore[no-untyped-def]
    import pandas as pd

    from explorer.cluster.clusterings import ClusterParams, cluster_space
    from explorer.maps.projections import ProjectionParams, project_space
    from explorer.opened.handle import open_space
    from explorer.render.scatter import scatter_map

    # Opening checks every file's checksum, and the index's structure before hnswlib.
    opened = open_space(folder)
    opened.index  # noqa: B018 - opened as the app opens it
    space = opened.space
    proj = project_space(opened, ProjectionParams())
    cl = cluster_space(opened, ClusterParams())
    names = {c.cluster: c.label for c in cl.clusters}
    colour = pd.Series([names.get(int(v), "noise") for v in cl.labels])
    fig = scatter_map(
        proj.coords, space.display_text[: space.n_map], colour=colour, colour_name="cluster"
    )
    return len(fig.to_json())


def run(quick: bool) -> list[Row]:
    from explorer.maps.projections import ProjectionParams, project_space
    from explorer.opened.handle import open_space

    folder, desc = _prepare(quick)
    t, size = timed(lambda: reopen(folder), repeat=3, warmup=1)
    space = open_space(folder).space
    base, _ = once(lambda: project_space(space, ProjectionParams()))
    return [
        Row(
            "reopen",
            "reopen a built space to an interactive map",
            t,
            "s",
            base,
            "recomputing the map from the vectors",
            "≤ 2 s",
            t <= 2.0,
            desc,
            f"open (checksums, index checks) + stored map + stored clusters + figure JSON "
            f"({size / 1e6:.1f} MB)",
        )
    ]


if __name__ == "__main__":
    for r in run("--quick" in sys.argv):
        print(r.as_dict())
