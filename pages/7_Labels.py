"""Labels: zero-shot categories for every item, and retrieval benchmarks."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import streamlit as st

from explorer.analysis.retrieval import (
    read_qrels,
    read_queries,
    retrieval_job,
    reverse_dictionary_job,
    word_space,
)
from explorer.analysis.zeroshot import (
    ZeroShot,
    evaluate_zero_shot,
    label_vectors,
    parse_labels,
    truth_column,
)
from explorer.core.safe_text import md, to_csv_bytes
from explorer.core.space import Space
from explorer.render.scatter import scatter_map
from ui import cache, common, map_figures

ZS = map_figures.ZS  # {folder: {"labels": [str], "truth": column or None}}: small values only
RT = "rt_eval"  # {folder: the last benchmark's figures (a small dict)}
NONE = "(none)"

common.setup("Labels", ":material/label:")
opened = common.require_space()
space = opened.space
index = opened.index
folder = common.key_of(opened)
common.sidebar(opened)
st.title("Labels")


def suggested_labels(space: Space) -> list[str]:
    """The values of the first category column (its categories, to try zero-shot with)."""
    for col in space.category_columns:
        values = space.items[col].iloc[: space.n_map].dropna().astype(str).unique()
        if 2 <= len(values) <= 30:
            return sorted(values)
    return []


def run_zero_shot(labels: list[str]) -> ZeroShot | None:
    """The zero-shot labels of the active space (a worker job, answered at once when
    the same labels were asked before)."""
    bar = st.progress(0.0, text="Labelling the items…")
    try:
        with common.friendly("Zero-shot labelling"):
            return cache.zero_shot(opened, labels, common.job_bar(bar))
        return None
    finally:
        bar.empty()


def show_evaluation(result: ZeroShot, truth: str) -> None:
    with common.friendly("Scoring the labels"):
        values, modality = truth_column(space, truth)
        ev = evaluate_zero_shot(result, values)
        c = st.columns(4)
        c[0].metric("Accuracy", f"{ev.accuracy:.1%}")
        c[1].metric("Macro-F1", f"{ev.macro_f1:.3f}", help="F1 per category, averaged.")
        c[2].metric(
            "Majority baseline",
            f"{ev.majority_baseline:.1%}",
            help=f"Always answering the most common category ({md(ev.majority)}).",
        )
        c[3].metric("Random baseline", f"{ev.random_baseline:.1%}", help="One category in k.")
        st.caption(
            f"Scored on {ev.evaluated:,} "
            + (f"{md(modality)} items (the other modality is left out) " if modality else "items ")
            + f"whose {md(truth)} names a category; {ev.left_out:,} left out. Rows: true "
            "category; columns: predicted."
        )
        st.dataframe(ev.confusion, width="stretch", key="zs_confusion")


def show_zero_shot(result: ZeroShot, truth: str | None) -> None:
    st.caption(f"Category vectors {md(result.how)}. Confidence: the margin to the runner-up.")
    if truth:
        show_evaluation(result, truth)
    counts = result.counts(space.n_map)
    table = pd.DataFrame(
        {
            "category": counts.index,
            "items": counts.to_numpy(),
            "closest items": [
                " · ".join(
                    str(space.display_text[r])[:40] for r in result.closest(c, 5, space.n_map)
                )
                for c in counts.index
            ],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch", key="zs_counts")
    proj = common.current_map(opened)
    if proj is not None:
        labels = pd.Series(result.names[: space.n_map], name="zero-shot label")
        fig = scatter_map(
            proj.coords,
            space.display_text[: space.n_map],
            colour=labels,
            colour_name="zero-shot label",
            numeric=False,
        )
        st.plotly_chart(fig, width="stretch", key="zs_map")
    rows = space.items[["id"]].assign(label=result.names, score=result.score, margin=result.margin)
    if truth:
        rows[truth] = space.items[truth]
    st.download_button(
        "Download the labels (CSV)",
        to_csv_bytes(rows),
        file_name="zero-shot-labels.csv",
        mime="text/csv",
        key="zs_download",
    )


def zero_shot_section() -> None:
    st.subheader("Zero-shot labels")
    st.caption(
        "Name some categories; every item gets the nearest one. Spaces with a model embed "
        "the names with it; word spaces look them up as words. Write name=description to "
        "embed a description instead (noun.animal=an animal)."
    )
    choices = st.session_state.setdefault(ZS, {})
    chosen: dict[str, Any] = choices.get(folder) or {}
    truth_options = [NONE, *space.category_columns]
    with st.form("zs_form"):
        text = st.text_area(
            "Categories (one per line, or separated by commas)",
            "\n".join(chosen.get("labels") or suggested_labels(space)),
            height=150,
        )
        truth = st.selectbox(
            "Compare with a label column",
            truth_options,
            index=truth_options.index(chosen.get("truth") or NONE)
            if (chosen.get("truth") or NONE) in truth_options
            else 0,
        )
        if st.form_submit_button("Label the items", type="primary"):
            with common.friendly("Reading the categories"):
                parsed = parse_labels(text)
                if not space.model:  # cheap here: a word missing from the space shows at once
                    label_vectors(space, parsed)
                choices[folder] = {
                    "labels": [
                        p.name if p.description == p.name else f"{p.name}={p.description}"
                        for p in parsed
                    ],
                    "truth": None if truth == NONE else truth,
                }
                st.rerun()
    if not chosen.get("labels"):
        return
    result = run_zero_shot(list(chosen["labels"]))
    if result is not None:
        show_zero_shot(result, chosen.get("truth"))


def run_benchmark(key: str, fn: Any, *args: Any) -> None:
    """Run a retrieval benchmark as a worker job and keep its figures (a small dict)."""
    bar = st.progress(0.0, text="Running the benchmark…")
    where = (str(opened.version), opened.name)
    try:
        with common.friendly("The benchmark"):
            ev = cache.run_job(
                key, "Retrieval benchmark", fn, *where, *args, on_status=common.job_bar(bar)
            )
            st.session_state.setdefault(RT, {})[folder] = ev.as_dict()
    finally:
        bar.empty()


def benchmark_inputs(k: int) -> None:
    builtin = "WordNet reverse dictionary"
    source = st.radio(
        "Benchmark", [builtin, "Upload queries and judgements"], horizontal=True, key="rt_source"
    )
    if source == builtin:
        st.caption(
            "WordNet definitions as queries (“a domesticated carnivorous mammal…”), their "
            "words as the answers. Needs a word space (items that are words)."
        )
        if not word_space(space):
            st.info("This space's items are not words: open a word space to run it.")
            return
        n = int(st.number_input("Queries", 20, 2000, 200, step=20, key="rt_n"))
        if st.button("Run the benchmark", type="primary", key="rt_run"):
            key = opened.job_key("reverse-dictionary", {"n": n, "k": k})
            run_benchmark(key, reverse_dictionary_job, n, 0, k)
        return
    c = st.columns(2)
    queries = c[0].file_uploader(
        "Queries: query_id, text", type=["csv", "tsv", "jsonl"], key="rt_queries"
    )
    qrels = c[1].file_uploader(
        "Judgements (qrels): query_id, item_id, relevance",
        type=["csv", "tsv", "txt"],
        key="rt_qrels",
    )
    if st.button("Run the benchmark", type="primary", key="rt_upload_run"):
        if queries is None or qrels is None:
            st.warning("Upload both files first.")
            return
        with common.friendly("Reading the files"):
            digest = hashlib.sha256(queries.getvalue() + b"\0" + qrels.getvalue()).hexdigest()
            key = opened.job_key("retrieval", {"files": digest[:16], "k": k})
            run_benchmark(key, retrieval_job, read_queries(queries), read_qrels(qrels), k)


def show_benchmark(figures: dict[str, Any]) -> None:
    names = {"recall@k": f"Recall@{figures['k']}", "mrr@10": "MRR@10", "ndcg@10": "nDCG@10"}
    c = st.columns(3)
    for col, (key, name) in zip(c, names.items(), strict=True):
        col.metric(
            name,
            f"{figures['index'][key]:.3f}",
            None if figures["exact_index"] else f"{figures['effect'][key]:+.3f} vs exact",
        )
    how = "exact search (a small space)" if figures["exact_index"] else "the hnswlib index"
    st.caption(f"{figures['queries']:,} queries, searched through {how}.")
    table = pd.DataFrame(
        {
            n: [figures["index"][k], figures["exact"][k], figures["effect"][k]]
            for k, n in names.items()
        },
        index=["index", "exact search", "index − exact"],
    )
    st.dataframe(table, width="stretch", key="rt_table")
    for note in figures["notes"]:
        st.caption(f":material/info: {md(note)}")


def retrieval_section() -> None:
    st.subheader("Retrieval benchmark")
    st.caption(
        "Queries with judged answers (BEIR / TREC qrels): recall@k, MRR@10 and nDCG@10, "
        "through the index and by exact search."
    )
    k = int(st.slider("k for recall@k", 1, 100, 10, key="rt_k"))
    benchmark_inputs(k)
    figures = st.session_state.get(RT, {}).get(folder)
    if figures:
        show_benchmark(figures)


zero_shot_section()
st.divider()
retrieval_section()
