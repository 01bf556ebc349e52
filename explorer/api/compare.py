"""``explorer.compare``: two spaces of the same items side by side, as
``python -m explorer compare`` and the Compare page compare them
(``explorer.analysis.compare.compare_opened``)."""

from __future__ import annotations

import os
from pathlib import Path

from explorer.analysis.compare import CompareParams, Comparison, compare_opened
from explorer.analysis.evaluate import google_analogies_path
from explorer.api.settings import map_params
from explorer.api.space import ExplorerSpace, as_space
from explorer.core.progress import Progress

__all__ = ["compare"]


def compare(
    a: ExplorerSpace | str | os.PathLike[str],
    b: ExplorerSpace | str | os.PathLike[str],
    *,
    k: int | None = None,
    sample: int | None = None,
    seed: int | None = None,
    listed: int | None = None,
    map: str | None = None,
    analogies: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Compare space `a` with space `b` on the items they share (matched by id).

    Returns the engine's ``Comparison``: ``summary()`` (what ``compare --json`` prints),
    ``mean_jaccard``, ``cka``, ``ari``, ``map_disparity``, ``most_changed``,
    ``least_changed``, per item ``ids`` and ``jaccard``, and ``notes``.

    Args:
        a, b: opened spaces, or the folders of saved ones.
        k: neighbours per item for Jaccard@k; sample: CKA on at most this many items;
            seed: the sample's seed; listed: items listed as most and least changed
            (each default: ``CompareParams``'s).
        map: the map method of both spaces (default: each one's own default map).
        analogies: word spaces: an analogy file (``"google"``: Google's set) whose
            accuracy is measured in each on the shared words.

    Raises:
        InputError: bad settings, or fewer than 3 shared items with usable vectors.
    """
    given = {"k": k, "cka_sample": sample, "seed": seed, "n_listed": listed}
    params = CompareParams(**{f: v for f, v in given.items() if v is not None})
    params.validate()  # before the maps and clusterings are made
    maps = None
    if map is not None:
        chosen = map_params(map, {})
        maps = (chosen, chosen)
    if analogies == "google":
        analogies = google_analogies_path()
    return compare_opened(
        as_space(a).opened,
        as_space(b).opened,
        params,
        map_params=maps,
        analogies=None if analogies is None else Path(analogies),
        progress=progress,
    )
