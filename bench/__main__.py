"""`python -m bench [--quick] [--only GROUP ...]`: run the benchmark suite.

Prints one table (each figure, its baseline measured in the same run, the ratio,
the target and whether it is met) and saves it as JSON under bench/results/, and
as Markdown in docs/performance.md. Timings are medians after a warm-up.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
import traceback
from datetime import UTC, datetime

from bench.common import RESULTS, ROOT, Row, machine

GROUPS = [
    "pipeline",
    "levers",
    "fresh",
    "reopen",
    "queries",
    "embed",
    "browser",
    "memory",
    "load",
    "density",
    "ray",
    "simclr",
]


# The maps' headline figures come from another bench; this table's pipeline rows are
# kept for the record (docs/maps.md says why).
HELDOUT = (
    "## Maps against strong baselines, on held-out data\n\n"
    'The figures to quote (docs/maps.md, "The measure", says how they are made): ours '
    "against umap-learn given the same hnswlib graph (b) and with its defaults (a), "
    "PaCMAP and openTSNE on the same graph (c), on data never used to pick a default, "
    "the mean and 95% interval over seeds, quality over all points "
    "(`python -m bench.b_heldout`; raw results in `docs/results/heldout-*.json`, tables "
    "by `python -m bench.heldout_report FILE`). The pipeline rows of the table below "
    "measure against a weak baseline (umap-learn searching its neighbours again beside "
    "an unused index) on the tuning sets."
)


def heldout_section() -> str:
    """The held-out map tables of every committed raw result, after :data:`HELDOUT`."""
    from bench.heldout_report import table, verdict

    parts = [HELDOUT]
    for path in sorted((ROOT / "docs" / "results").glob("heldout-full*.json")):
        report = json.loads(path.read_text())
        for entry in report["sets"].values():
            parts += [table(entry), verdict(entry), f"Raw results: `docs/results/{path.name}`."]
    return "\n\n".join(parts)


def embedding_section() -> str:
    """Text embedding by backend, from ``docs/results/embed-backends.json``."""
    path = ROOT / "docs" / "results" / "embed-backends.json"
    report = json.loads(path.read_text())
    res = report["results"]
    rows = [
        "| backend | texts/s | × PyTorch fp32 | cosine to fp32 (min / mean) | ships |",
        "|---|---|---|---|---|",
    ]
    ships = {
        "torch-fp32": "yes: the fallback",
        "torch-bf16": "yes: the default where the CPU has native bfloat16",
        "onnx-fp32": "no: no faster",
        "onnx-int8": "no: fails the 0.99 cosine bar",
    }
    for name, r in res.items():
        speed = f"{r['speedup_vs_torch_fp32']:.2f}"
        if "speedup_mean" in r:
            speed = f"{r['speedup_mean']:.2f} ± {r['speedup_ci95']:.2f}"
        rows.append(
            f"| {name} | {r['texts_per_s']:.0f} | {speed} | "
            f"{r['cos_min']:.4f} / {r['cos_mean']:.4f} | {ships.get(name, '')} |"
        )
    labelled = report["labelled"]
    diffs = labelled["bf16 - fp32"]
    worst = max(abs(v) for v in diffs.values())
    lines = [
        "| figure | fp32 | bf16 | bf16 − fp32 |",
        "|---|---|---|---|",
        *(
            f"| {k} | {labelled['fp32'][k]:.4f} | {labelled['bf16'][k]:.4f} | {v:+.4f} |"
            for k, v in diffs.items()
        ),
    ]
    bf16 = res["torch-bf16"]
    return "\n\n".join(
        [
            "## Text embedding by backend",
            f"all-MiniLM-L6-v2 on {report['texts']:,} {report['data']} per draw "
            f"(`python -m bench.b_embed_backends`). PyTorch fp32 and bf16 alternate over "
            f"{len(report['seeds'])} draws (mean and 95% interval of the per-draw ratio); "
            "the ONNX exports ran once, on the first draw. The build embeds in bf16 where "
            "the CPU runs it natively and the model passes the probe of "
            "`explorer.ingest.fast_mode`, else in fp32.",
            "\n".join(rows),
            f"- bf16 against PyTorch fp32: {bf16['speedup_mean']:.2f} ± "
            f"{bf16['speedup_ci95']:.2f}× (target ≥ 2.5×: **missed**); cosine to fp32 "
            f"≥ {bf16['cos_min']:.4f} for every text (bar 0.99: met).",
            "Spaces built from the labelled samples at each precision (category names and "
            f"queries embedded as the product does); largest difference {worst:.4f} "
            f"(bar 0.01: {'met' if worst <= 0.01 else '**missed**'}):",
            "\n".join(lines),
            "Raw results: `docs/results/embed-backends.json`.",
        ]
    )


def first_map_section() -> str:
    """From vectors to a map as a user gets one, from ``docs/results/first-map.json``."""
    path = ROOT / "docs" / "results" / "first-map.json"
    report = json.loads(path.read_text())
    runs = report["runs"]

    def mean(key: str, method: str) -> str:
        from bench.heldout_report import interval

        m, half = interval([r[key] for r in runs[method]])
        return f"{m:.1f} ± {half:.1f} s"

    cli, browser = report["cli_vs_baseline_b"], report["browser_build_to_map"]
    met = "met" if browser["mean"] + browser["ci95"] <= browser["target_s"] else "**missed**"
    return "\n\n".join(
        [
            "## From vectors to a map, as a user gets one",
            f"{report['data']}, each step a fresh process (`python -m bench.b_first_map`, "
            f"{len(runs['cli'])} seeds, alternating).",
            "\n".join(
                [
                    "| path | build | map | total |",
                    "|---|---|---|---|",
                    f"| `explorer build` + `explorer project --method umap` (quality included) "
                    f"| {mean('build', 'cli')} | {mean('project', 'cli')} "
                    f"| {mean('total', 'cli')} |",
                    "| (b) a umap-learn script: np.load, hnswlib graph, UMAP(precomputed_knn) "
                    f"| | | {mean('total', 'baseline_b')} |",
                    "| browser: `explorer build`, then the Map page until the map is drawn "
                    f"| {mean('build', 'browser')} | {mean('map_drawn', 'browser')} "
                    f"| {mean('total', 'browser')} |",
                ]
            ),
            f"- CLI build + project against (b): {cli['mean']:.2f} ± {cli['ci95']:.2f}× "
            "(target ≥ 2×: **missed**)"
            if cli["mean"] < cli["target"]
            else f"- CLI build + project against (b): {cli['mean']:.2f} ± {cli['ci95']:.2f}×",
            f"- build → map drawn in the browser: {browser['mean']:.1f} ± "
            f"{browser['ci95']:.1f} s (target ≤ {browser['target_s']:.0f} s: {met}). The map's "
            "quality line was on screen at most "
            f"{max(r['quality'] - r['map_drawn'] for r in runs['browser']):.1f} s after the map "
            "(the worker measures it while the browser draws the map).",
            "Raw results: `docs/results/first-map.json`.",
        ]
    )


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    return f"{v:,.3g} {unit}".strip() if abs(v) < 1000 else f"{v:,.0f} {unit}".strip()


def table(rows: list[Row]) -> str:
    head = (
        "| figure | ours | baseline | ratio | target | met | data |\n|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else "—"
        met = {True: "yes", False: "**no**", None: "—"}[r.met]
        base = _fmt(r.baseline, r.unit) + (f" ({r.baseline_name})" if r.baseline_name else "")
        lines.append(
            f"| {r.figure} | {_fmt(r.ours, r.unit)} | {base} | {ratio} | {r.target} "
            f"| {met} | {r.data}{'; ' + r.note if r.note else ''} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, under 5 minutes")
    ap.add_argument("--only", nargs="*", choices=GROUPS, help="run only these groups")
    ap.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    args = ap.parse_args()
    mode = "quick" if args.quick else "full"
    rows: list[Row] = []
    errors: dict[str, str] = {}
    t0 = time.perf_counter()
    for group in args.only or GROUPS:
        print(f"== {group} ({mode})", flush=True)
        t = time.perf_counter()
        try:
            mod = importlib.import_module(f"bench.b_{group}")
            got = mod.run(args.quick)
            rows.extend(got)
            for r in got:
                print(
                    f"   {r.figure}: {_fmt(r.ours, r.unit)} vs {_fmt(r.baseline, r.unit)}"
                    f" → met={r.met}",
                    flush=True,
                )
        except Exception as exc:  # noqa: BLE001 - one broken group must not hide the others
            errors[group] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        print(f"   ({time.perf_counter() - t:.0f} s)", flush=True)
    total = time.perf_counter() - t0
    out = {
        "mode": mode,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(total, 1),
        "machine": machine(),
        "rows": [r.as_dict() for r in rows],
        "errors": errors,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    latest = RESULTS / f"latest-{mode}.json"
    if args.only and latest.exists():
        # Re-running some groups: keep the other groups' rows from the last run.
        old = json.loads(latest.read_text())
        kept = [r for r in old["rows"] if r["group"] not in args.only]
        out["rows"] = kept + out["rows"]
        # The header keeps the first run's time and date; each re-run reports its own
        # groups, date and time (a group re-run again leaves its older entry).
        history = [
            {**h, "groups": [g for g in h["groups"] if g not in args.only]}
            for h in old.get("reruns", [])
        ]
        out["reruns"] = [h for h in history if h["groups"]] + [
            {"groups": args.only, "when": out["when"], "seconds": out["seconds"]}
        ]
        out["when"], out["seconds"] = old["when"], old["seconds"]
        fields = set(Row.__dataclass_fields__)
        rows = [Row(**{k: v for k, v in r.items() if k in fields}) for r in out["rows"]]
    latest.write_text(json.dumps(out, indent=2))
    md = table(rows)
    print("\n" + md)
    if errors:
        print("\nErrors: " + json.dumps(errors, indent=2))
    print(f"\n{mode} run: {total:.0f} s; JSON in {RESULTS / f'latest-{mode}.json'}")
    if not args.no_docs:
        m = out["machine"]
        doc = ROOT / "docs" / "performance.md"
        doc.parent.mkdir(exist_ok=True)
        doc.write_text(
            f"# Performance\n\nLatest `python -m bench{' --quick' if args.quick else ''}` "
            f"({mode} mode, {out['when']}, {out['seconds']:.0f} s) on {m['cpu']}, "
            f"{m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}. "
            "Each baseline was measured in the same run; ratio > 1 is better."
            + (
                " Re-run since: "
                + "; ".join(
                    f"{', '.join(h['groups'])} at {h['when']} ({h['seconds']:.0f} s)"
                    for h in out["reruns"]
                )
                + "."
                if out.get("reruns")
                else ""
            )
            + "\n\n"
            + heldout_section()
            + "\n\n"
            + embedding_section()
            + "\n\n"
            + first_map_section()
            + "\n\n## Every figure of `python -m bench`\n\n"
            + md
            + "\n"
        )
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
