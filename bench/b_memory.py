"""Target 7: peak memory with a large space open, as a multiple of its raw vectors.

Runs in a fresh process: open the saved space (vectors memory-mapped), load its
hnswlib index, answer neighbour queries (approximate and exact), read the peak RSS.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench.common import ROOT, Row

CHILD = r"""
import json, sys
import numpy as np
from bench.common import peak_rss_mb
from explorer.index import open_index
from explorer.opened.handle import open_space
base = peak_rss_mb()
space = open_space(sys.argv[1]).space
index = open_index(sys.argv[1], space)
q = np.asarray(space.vectors[:100])
index.search(q, 10)
index.search(q[:5], 10, exact=True)
print(json.dumps({"peak_mb": peak_rss_mb(), "imports_mb": base,
                  "raw_mb": space.vectors.nbytes / 2**20}))
"""


def run(quick: bool) -> list[Row]:
    from bench.spaces import synthetic_space

    n = 200_000 if quick else 1_000_000
    folder, desc = synthetic_space(n)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    ratio = r["peak_mb"] / r["raw_mb"]
    return [
        Row(
            "memory",
            "peak RSS with the space open and queried",
            r["peak_mb"],
            "MB",
            r["raw_mb"],
            "raw vector size",
            "≤ 2.5× the raw vectors",
            ratio <= 2.5,
            desc,
            f"{ratio:.2f}× raw; {r['imports_mb']:.0f} MB of it is Python and libraries",
            higher_is_better=True,
        )
    ]


if __name__ == "__main__":
    for r in run("--quick" in sys.argv):
        print(r.as_dict())
