"""The Ray engine pointed at a running cluster of separate processes, building from
vectors: a head (``ray start --head``) and one worker (``ray start --address``), as an
operator runs them; the build joins it by address.

Precomputed vectors (a Parquet list column, and ``.npy`` shards) must give the space the
single-machine build gives: the same ids, vectors and neighbours.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from explorer.analysis.probes import neighbours
from explorer.core.errors import InputError
from explorer.core.store import read_manifest
from explorer.index.hnsw import open_index
from explorer.ingest.build import build_from_file
from explorer.opened.handle import open_space

pytestmark = pytest.mark.slow
RAY = Path(sys.executable).parent / "ray"
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The address of a head and one worker node, each its own `ray start` process tree,
    and the environment that joins them.

    Ray's default for a started cluster is token authentication: the head writes the
    token to ~/.ray/auth_token, and the worker and the build (a driver) join with
    RAY_AUTH_MODE=token, as on a real cluster (docs/scale.md).
    """
    pytest.importorskip("ray")
    if not RAY.exists():
        pytest.skip("the ray command is not installed")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    temp = tmp_path_factory.mktemp("ray-cluster")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token"}
    head = [str(RAY), "start", "--head", f"--port={port}", "--num-cpus=1"]
    head += ["--node-ip-address=127.0.0.1", "--include-dashboard=false", f"--temp-dir={temp}"]
    worker = [str(RAY), "start", f"--address={address}", "--num-cpus=1"]
    worker += ["--node-ip-address=127.0.0.1"]
    try:
        for command in (head, worker):
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr[-2000:]
        yield address, env
    finally:
        subprocess.run([str(RAY), "stop", "--force"], env=env, capture_output=True, timeout=120)


def _build(cluster: tuple[str, dict[str, str]], source: Path, out: Path, *more: str) -> Any:
    """`python -m explorer build SOURCE --engine ray --address ...`, as an operator runs it
    on the head node; (exit code, stdout as JSON or None, stderr)."""
    address, env = cluster
    args = [sys.executable, "-m", "explorer", "build", str(source), "--out", str(out)]
    args += ["--engine", "ray", "--address", address, "--fit-sample", "400", "--json", *more]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    data = json.loads(done.stdout) if done.returncode == 0 else None
    return done.returncode, data, done.stderr


@pytest.fixture(scope="module")
def vectors(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """600 clustered 32-d vectors as one .npy, as 3 .npy shards, and as Parquet."""
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(12, 32))
    x = (centres[rng.integers(0, 12, 600)] + 0.3 * rng.normal(size=(600, 32))).astype(np.float32)
    root = tmp_path_factory.mktemp("ray-vectors")
    np.save(root / "all.npy", x)
    shards = root / "shards"
    shards.mkdir()
    for i, part in enumerate(np.array_split(x, 3)):
        np.save(shards / f"part-{i:02d}.npy", part)
    table = pd.DataFrame({"id": [f"p{i:03d}" for i in range(600)], "vector": list(x)})
    table.to_parquet(root / "vectors.parquet", index=False)
    return root / "all.npy", shards, root / "vectors.parquet"


def _same_space(a: Path, b: Path) -> None:
    # 600 rows: both indexes are exact search, so the neighbours must be equal, not close.
    one, two = open_space(a).space, open_space(b).space
    assert one.ids.tolist() == two.ids.tolist()
    np.testing.assert_allclose(one.vectors, two.vectors, atol=1e-6)
    i1, i2 = open_index(a, one), open_index(b, two)
    for row in range(0, one.n, 7):
        got = [h.id for h in neighbours(one, i1, row=row, k=10)]
        want = [h.id for h in neighbours(two, i2, row=row, k=10)]
        assert got == want, row


def test_a_cluster_builds_vectors_as_the_local_build_does(
    cluster: tuple[str, dict[str, str]], vectors: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    one, shards, parquet = vectors
    code, summary, err = _build(cluster, shards, tmp_path / "shards", "--format", "npy")
    assert code == 0, err[-2000:]
    assert summary["n"] == 600 and "Vectors read on Ray, as given" in summary["notes"]
    code, _, err = _build(cluster, parquet, tmp_path / "table")
    assert code == 0, err[-2000:]
    build_from_file(one, tmp_path / "local-npy")
    build_from_file(parquet, tmp_path / "local-table")
    _same_space(tmp_path / "shards", tmp_path / "local-npy")
    _same_space(tmp_path / "table", tmp_path / "local-table")
    man = read_manifest(tmp_path / "shards")
    assert man["source"]["kind"] == "vectors" and man["source"]["format"] == "npy"
    assert man["source"]["files"] == ["part-00.npy", "part-01.npy", "part-02.npy"]
    assert man["map"]["fitted_rows"] == 400 and man["map"]["placed_rows"] == 200
    assert man["build"]["engine"] == "ray"
    assert open_space(tmp_path / "table").space.model is None


def test_shards_from_a_url_are_refused_before_ray_starts(tmp_path: Path) -> None:
    from explorer.scale.build import RayOptions, ray_build

    with pytest.raises(InputError, match="shared file system"):
        ray_build("s3://bucket/shards/", tmp_path / "out", options=RayOptions(), fmt="npy")
