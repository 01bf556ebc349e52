"""Command line over the engine: ``python -m explorer COMMAND ...``.

Every command takes ``--json`` for machine-readable output. Errors print one
line to stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, get_args

import numpy as np

from explorer.cli.common import Add, defaults, opened_space, out, progress
from explorer.core.errors import InputError, user_message

__all__ = ["main"]


def cmd_samples(args: argparse.Namespace) -> None:
    from explorer.ingest.samples import SAMPLES

    rows = [
        {
            "name": s.name,
            "title": s.title,
            "size": s.size,
            "model": s.model,
            "kind": s.kind,
            "description": s.description,
        }
        for s in SAMPLES.values()
    ]
    out(
        args,
        {"samples": rows},
        "\n".join(f"{r['name']:<14} {r['size']:<14} {r['description']}" for r in rows),
    )


def _ray_build(args: argparse.Namespace) -> Any:
    """``build INPUT --out DIR --engine ray ...``: the options as the Ray engine takes them."""
    from explorer.scale.build import RayOptions, ray_build

    if args.sample or args.captions or args.metadata or args.metric not in (None, "cosine"):
        raise InputError(
            "--engine ray builds from a table of texts or vectors (CSV, TSV, Parquet or "
            "JSONL; a path or URL) or from .npy shards, with metric cosine: leave out "
            "--sample, --captions, --metadata, --metric."
        )
    if not args.input:
        raise InputError("Give the INPUT table (a path or URL) to build from.")
    opts = RayOptions(
        address=args.address,
        num_workers=args.num_workers,
        gpus_per_worker=args.gpus_per_worker,
        fit_sample=args.fit_sample,
        model=args.model,
        precision=args.precision or "auto",
    )

    def lines(f: float, msg: str) -> None:
        # One line per report, never a redrawn line: Ray's progress bars share stderr.
        print(f"[{f:4.0%}] {msg}", file=sys.stderr, flush=True)

    return ray_build(
        args.input,
        Path(args.out),
        options=opts,
        fmt=args.format,
        text_col=args.text_col,
        id_col=args.id_col,
        limit=args.limit,
        overwrite=args.overwrite,
        progress=None if args.json else lines,
    )


def cmd_build(args: argparse.Namespace) -> None:
    from explorer.ingest.build import build_from_file, build_sample

    common: dict[str, Any] = {"progress": progress(args), "overwrite": args.overwrite}
    if args.metric:
        common["metric"] = args.metric
    if args.precision:
        common["precision"] = args.precision
    if args.engine == "ray":
        summary = _ray_build(args)
    elif args.sample:
        if args.input:
            raise InputError("Give either INPUT or --sample, not both.")
        _, _, summary = build_sample(args.sample, Path(args.out), **common)
    elif args.input and _images_input(args):
        from explorer.ingest.image_space import build_image_space, load_image_input

        summary = build_image_space(
            load_image_input(Path(args.input), max_images=args.limit),
            Path(args.out),
            model=args.model or "",
            captions=Path(args.captions) if args.captions else None,
            overwrite=args.overwrite,
            progress=common["progress"],
        )
    else:
        if not args.input:
            raise InputError("Give an INPUT file to build from, or --sample NAME.")
        if args.captions:
            raise InputError("--captions goes with images (a folder, .zip or .npy of images).")
        read = {
            "fmt": args.format,
            "text_col": args.text_col,
            "id_col": args.id_col,
            "limit": args.limit,
            "metadata_path": args.metadata,
        }
        _, _, summary = build_from_file(
            Path(args.input),
            Path(args.out),
            read_kwargs={k: v for k, v in read.items() if v},
            model=args.model,
            **common,
        )
    if common["progress"]:
        print(file=sys.stderr)
    out(args, asdict(summary), f"Built {summary.folder}\n  " + "\n  ".join(summary.lines()))


def _images_input(args: argparse.Namespace) -> bool:
    """Whether INPUT is a collection of images, which needs a CLIP --model."""
    from explorer.ingest.image_space import is_image_input

    if not is_image_input(Path(args.input)):
        return False
    if not args.model:
        raise InputError(
            "INPUT holds images: give --model, a CLIP model that embeds images and text "
            "(such as clip-ViT-B-32 or a local folder), or train one with 'train clip'."
        )
    return True


def cmd_info(args: argparse.Namespace) -> None:
    man = opened_space(args.dir).manifest()  # refuses a half-written folder
    info = {
        k: man.get(k)
        for k in (
            "n",
            "dim",
            "metric",
            "model",
            "map_rows",
            "fingerprint",
            "source",
            "notes",
            "columns",
            "build",
        )
    }
    steps: dict[str, Any] = man.get("steps") or {}
    info["steps"] = steps
    lines = [
        f"{man['n']:,} items × {man['dim']} dims, metric {man['metric']}, "
        f"model {man.get('model') or '(given vectors)'}",
        f"columns: {', '.join(man.get('columns', []))}",
        f"steps done: {len(steps)}",
    ]
    lines += [f"  {k}: {json.dumps(v.get('params', v), sort_keys=True)}" for k, v in steps.items()]
    out(args, info, "\n".join(lines))


def cmd_neighbours(args: argparse.Namespace) -> None:
    from explorer.analysis.probes import neighbours
    from explorer.ingest.query import text_vector

    opened = opened_space(args.dir)

    space = opened.space
    index = opened.index
    modality = _modalities(space)
    among = None
    if args.modality:
        among = modality == args.modality
        if not among.any():
            raise InputError(f"No item is of modality {args.modality!r}: {sorted(set(modality))}.")
    if args.id is not None:
        row = int(space.rows([args.id])[0])
        hits = neighbours(space, index, row=row, k=args.k, among=among)
        query = args.id
    elif args.text is not None:
        vec, _ = text_vector(space, args.text)
        hits = neighbours(space, index, vector=vec, k=args.k, among=among)
        query = args.text
    else:
        raise InputError("Give --id ID or --text TEXT.")
    rows = [
        {
            "id": h.id,
            "text": h.text,
            "modality": modality[h.row],
            "score": round(float(h.score), 6),
        }
        for h in hits
    ]
    out(
        args,
        {"query": query, "neighbours": rows},
        "\n".join(f"{h.score:.4f}  {modality[h.row]:<5}  {h.id}  {h.text[:80]}" for h in hits),
    )


def _modalities(space: Any) -> Any:
    """Each item's modality: the ``modality`` column of an image space, else "text"
    for items with text and "vector" for given vectors without it."""
    if "modality" in space.items.columns:
        return space.items["modality"].astype(str).to_numpy()
    return np.full(space.n, "text" if space.has_text else "vector", dtype=object)


def cmd_analogy(args: argparse.Namespace) -> None:
    from explorer.analysis.probes import analogy

    opened = opened_space(args.dir)

    space = opened.space
    index = opened.index
    res = analogy(space, args.plus, args.minus or [], k=args.k, method=args.method, index=index)
    rows = [{"id": h.id, "score": round(float(h.score), 6)} for h in res.hits]
    out(
        args,
        {"query": res.name, "method": args.method, "results": rows},
        res.name + "\n" + "\n".join(f"{r['score']:.4f}  {r['id']}" for r in rows),
    )


def cmd_project(args: argparse.Namespace) -> None:
    from explorer.cli.map_flags import map_params
    from explorer.maps.projections import project_space

    opened = opened_space(args.dir)

    space = opened.space
    params = map_params(args)
    proj = project_space(opened, params, progress=progress(args))
    if progress(args):
        print(file=sys.stderr)
    q = proj.quality
    assert q is not None  # a map of a space always carries its stored quality
    data = {
        "method": proj.method,
        "dims": int(proj.coords.shape[1]),
        "n": int((~np.isnan(proj.coords).any(axis=1)).sum()),
        "trustworthiness": round(q.trustworthiness, 4),
        "continuity": round(q.continuity, 4),
        "quality_k": q.k,
        "seconds": round(proj.seconds, 2),
        "notes": proj.notes,
    }
    text = (
        f"{proj.method} map of {data['n']:,} points in {data['seconds']} s; "
        f"trustworthiness (k={q.k}) {data['trustworthiness']}, continuity {data['continuity']}"
        + "".join(f"\n  {n}" for n in proj.notes)
    )
    if proj.method == "axis":
        from explorer.maps.axes import poles

        low, high = poles(proj.coords, 10)
        start = [str(space.ids[r]) for r in low]
        end = [str(space.ids[r]) for r in high]
        data["poles"] = {"start": start, "end": end}
        text += "\n  nearest the start: " + ", ".join(start)
        text += "\n  nearest the end:   " + ", ".join(end)
    out(args, data, text)


def cmd_cluster(args: argparse.Namespace) -> None:
    from explorer.cluster.clusterings import ClusterParams, cluster_space

    opened = opened_space(args.dir)

    space = opened.space
    params = ClusterParams(
        algorithm=args.method,
        features=args.features,
        n_clusters=args.k,
        min_cluster_size=args.min_cluster_size,
        seed=args.seed,
    )
    res = cluster_space(opened, params)
    rows = [
        {
            "cluster": c.cluster,
            "size": c.size,
            "terms": c.terms,
            "exemplars": [str(space.ids[r]) for r in c.exemplars],
        }
        for c in res.clusters
    ]
    noise = int((res.labels == -1).sum())
    out(
        args,
        {"ran_on": res.ran_on, "clusters": rows, "noise": noise, "notes": res.notes},
        f"{len(rows)} clusters ({res.ran_on}); {noise} unclustered\n"
        + "\n".join(f"{c.cluster:>4} {c.size:>7,}  {' · '.join(c.terms)}" for c in res.clusters),
    )


def cmd_evaluate(args: argparse.Namespace) -> None:
    from explorer.analysis.evaluate import evaluate_analogies, evaluate_similarity

    space = opened_space(args.dir).space
    if args.analogies:
        res = evaluate_analogies(space, Path(args.analogies), restrict_vocab=args.restrict_vocab)
        sections = {k: asdict(v) for k, v in res.sections.items()}
        out(
            args,
            {
                "accuracy": res.accuracy,
                "sections": sections,
                "oov": res.oov,
                "questions": res.questions,
            },
            f"accuracy {res.accuracy:.4f} ({res.oov} of {res.questions} questions skipped "
            "as out of vocabulary)\n"
            + "\n".join(
                f"  {k:<30} {v['accuracy']:.3f} ({v['correct']}/{v['total']})"
                for k, v in sections.items()
            ),
        )
    elif args.similarity:
        sim = evaluate_similarity(space, Path(args.similarity))
        out(
            args,
            {"spearman": sim.spearman, "pairs_used": sim.pairs_used, "pairs_oov": sim.pairs_oov},
            f"Spearman {sim.spearman:.4f} on {sim.pairs_used} pairs "
            f"({sim.pairs_oov} out of vocabulary)",
        )
    else:
        raise InputError("Give --analogies FILE or --similarity FILE.")


def cmd_warmup(args: argparse.Namespace) -> None:
    from explorer.maps.umap import warm_up

    seconds = warm_up()
    out(args, {"seconds": round(seconds, 2)}, f"UMAP compiled and cached in {seconds:.1f} s")


def cmd_reindex(args: argparse.Namespace) -> None:
    from explorer.ingest.build import reindex

    index = reindex(opened_space(args.dir), progress=progress(args))
    if progress(args):
        print(file=sys.stderr)
    data = {
        "exact": index.exact,
        "size": index.size,
        "ef_search": index.params.ef_search,
        "recall_at_10": index.recall,
    }
    how = (
        "exact search"
        if index.exact
        else f"hnswlib, ef={index.params.ef_search}, recall@10 {index.recall:.3f}"
    )
    out(args, data, f"Indexed {index.size:,} vectors ({how})")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m explorer", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, fn: Any, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help)
        sp.add_argument("--json", action="store_true", help="machine-readable output")
        sp.set_defaults(fn=fn)
        return sp

    _register_modules(add)
    _add_build(add)
    _add_queries(add)
    _add_steps(add)
    return p


def _add_build(add: Add) -> None:
    b = add("build", cmd_build, "build a space from a file or a sample")
    b.add_argument("input", nargs="?")
    b.add_argument("--sample")
    b.add_argument("--out", required=True)
    b.add_argument("--model")
    b.add_argument("--text-col")
    b.add_argument("--id-col")
    b.add_argument("--format")
    b.add_argument("--metadata", help="metadata table for a vectors file")
    b.add_argument("--captions", help="CSV of image file names and captions (with images)")
    b.add_argument("--limit", type=int)
    b.add_argument(
        "--overwrite", action="store_true", help="replace a space already saved under --out"
    )
    b.add_argument("--metric", choices=["cosine", "ip", "l2"])
    b.add_argument(
        "--precision",
        choices=["fp32", "bf16", "auto"],
        help="auto (default): bfloat16 where the CPU runs it natively and the model's"
        " vectors stay within cosine 0.99 of float32's, else float32; fp32: always float32",
    )
    r = b.add_argument_group("scale", "--engine ray: a text table on a Ray cluster (docs/scale.md)")
    r.add_argument("--engine", choices=["local", "ray"], default="local")
    r.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else local)")
    r.add_argument("--num-workers", type=int, help="embedding actors (default: one per CPU/GPU)")
    r.add_argument("--gpus-per-worker", type=float, default=0.0, help="GPUs per actor (0: CPU)")
    r.add_argument(
        "--fit-sample", type=int, default=20_000, help="points UMAP is fitted on; rest placed"
    )
    add("samples", cmd_samples, "list the built-in samples")
    add("warmup", cmd_warmup, "compile UMAP's numba code once, into the on-disk cache")
    add("reindex", cmd_reindex, "rebuild the search index of a saved space").add_argument("dir")
    add("info", cmd_info, "counts, dimension, model and steps of a space").add_argument("dir")


def _add_queries(add: Add) -> None:
    from explorer.analysis.probes import AnalogyMethod

    n = add("neighbours", cmd_neighbours, "nearest items to an item or a text")
    n.add_argument("dir")
    n.add_argument("--id")
    n.add_argument("--text")
    n.add_argument("-k", type=int, default=10)
    n.add_argument("--modality", help="only items of this modality (image, text)")
    a = add("analogy", cmd_analogy, "a - b + c style probes")
    a.add_argument("dir")
    a.add_argument("--plus", nargs="+", required=True)
    a.add_argument("--minus", nargs="*", default=[])
    a.add_argument("-k", type=int, default=10)
    a.add_argument("--method", choices=list(get_args(AnalogyMethod)), default="3cosadd")
    e = add("evaluate", cmd_evaluate, "analogy accuracy or word-similarity correlation")
    e.add_argument("dir")
    e.add_argument("--analogies")
    e.add_argument("--similarity")
    e.add_argument("--restrict-vocab", type=int, default=300_000)


def _add_steps(add: Add) -> None:
    from explorer.cli.map_flags import add_map_flags
    from explorer.cluster.clusterings import ALGORITHMS, FEATURES, ClusterParams

    cd_ = defaults(ClusterParams)
    pr = add("project", cmd_project, "compute and store a 2-D/3-D map")
    pr.add_argument("dir")
    add_map_flags(pr)
    c = add("cluster", cmd_cluster, "cluster a space")
    c.add_argument("dir")
    c.add_argument("--method", choices=ALGORITHMS, default=cd_["algorithm"])
    c.add_argument(
        "--features", choices=FEATURES, default=cd_["features"], help="what to cluster on"
    )
    c.add_argument("-k", "--n-clusters", dest="k", type=int, default=cd_["n_clusters"])
    c.add_argument("--min-cluster-size", type=int, default=cd_["min_cluster_size"])
    c.add_argument("--seed", type=int, default=cd_["seed"])


def _register_modules(add: Add) -> None:
    """Commands of the other ``explorer/cli/`` modules (one module per family of commands;
    the modules they share, such as ``common``, have no ``register``)."""
    import importlib
    import pkgutil

    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if info.name != "main":
            module = importlib.import_module(f"explorer.cli.{info.name}")
            if hasattr(module, "register"):
                module.register(add)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from explorer.ingest.models import trusted_models

    try:
        # The command line is the operator's: any model id or folder may be used.
        with trusted_models():
            args.fn(args)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print(f"error: {user_message(exc, args.command.capitalize())}", file=sys.stderr)
        return 2
    return 0
