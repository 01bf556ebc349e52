"""Analogies: a − b + c probes, a picture of the arithmetic, and whole evaluation sets."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.analysis.evaluate import evaluate_analogies, google_analogies_path
from explorer.analysis.probes import analogy, analogy_layout
from explorer.core.safe_text import md
from explorer.render.probe_figures import analogy_figure, section_bars
from ui import common

PRESETS = [
    ("king", "man", "woman"),
    ("paris", "france", "italy"),
    ("walking", "walk", "swim"),
    ("bigger", "big", "small"),
    ("tokyo", "japan", "germany"),
]
VOCAB_OPTIONS = 20_000  # autocomplete offers the most frequent items; any term can be typed

common.setup("Analogies", ":material/functions:")
opened = common.require_space()
space = opened.space
index = opened.index
common.sidebar(opened)
st.title("Analogies")
st.caption("“a is to b as c is to ?” — answered by vector arithmetic: a − b + c.")

state = st.session_state
presets = [p for p in PRESETS if all(space.lookup(t) is not None for t in p)]
if presets and all(state.get(key) is None for key in ("an_a", "an_b", "an_c")):
    # a, b and c unset (a first visit): show the first preset's answer without a click.
    state["an_a"], state["an_b"], state["an_c"] = presets[0]
if presets:
    cols = st.columns(len(presets))
    for col, (a, b, c) in zip(cols, presets, strict=False):
        if col.button(f"{a} − {b} + {c}", key=f"preset_{a}", width="stretch"):
            state["an_a"], state["an_b"], state["an_c"] = a, b, c
            state["an_mode"] = "a − b + c"

mode = st.radio("Form", ["a − b + c", "Lists of terms"], horizontal=True, key="an_mode")
vocab = [str(v) for v in space.ids[:VOCAB_OPTIONS]]
plus: list[str] = []
minus: list[str] = []
if mode == "a − b + c":
    for key in ("an_a", "an_b", "an_c"):
        if state.get(key) and state[key] not in vocab:
            vocab.append(state[key])  # a typed or preset term stays selectable
    c1, c2, c3 = st.columns(3)
    a = c1.selectbox(
        "a", vocab, index=None, key="an_a", accept_new_options=True, placeholder="king"
    )
    b = c2.selectbox(
        "− b", vocab, index=None, key="an_b", accept_new_options=True, placeholder="man"
    )
    c = c3.selectbox(
        "+ c", vocab, index=None, key="an_c", accept_new_options=True, placeholder="woman"
    )
    if a and b and c:
        plus, minus = [a, c], [b]
else:
    c1, c2 = st.columns(2)
    plus = [
        t.strip()
        for t in c1.text_input(
            "Plus terms (comma-separated)", key="an_plus", placeholder="king, woman"
        ).split(",")
        if t.strip()
    ]
    minus = [
        t.strip()
        for t in c2.text_input(
            "Minus terms (comma-separated)", key="an_minus", placeholder="man"
        ).split(",")
        if t.strip()
    ]
c1, c2 = st.columns(2)
method = c1.radio(
    "Method",
    ["3cosadd", "3cosmul"],
    horizontal=True,
    key="an_method",
    format_func={"3cosadd": "3CosAdd", "3cosmul": "3CosMul"}.get,
)
k = c2.slider("Answers", 1, 50, 10, key="an_k")

if plus:
    with common.friendly("The analogy"):
        res = analogy(space, plus, minus, k=k, method=method, index=index)  # type: ignore[arg-type]
        left, right = st.columns([2, 3])
        with left:
            st.subheader(md(res.name))
            if res.hits:
                st.markdown(f"### → **{md(res.hits[0].text)}**")
            st.dataframe(
                pd.DataFrame(
                    [
                        {"rank": i + 1, "answer": h.text, "score": h.score}
                        for i, h in enumerate(res.hits)
                    ]
                ),
                hide_index=True,
                width="stretch",
                key="an_table",
            )
        with right:
            layout = analogy_layout(space, res, n_answers=3)
            st.plotly_chart(analogy_figure(layout), width="stretch", key="an_fig")

st.divider()
st.subheader("Evaluate on an analogy set")
st.caption(
    "Google's questions-words.txt (19,544 questions) or any file in its format: "
    "“: section” lines, then four words per line. Scored as gensim does."
)
c1, c2, c3 = st.columns([2, 1, 1])
upload = c1.file_uploader("Analogy file (optional)", type=["txt"], key="an_file")
restrict = c2.number_input(
    "Vocabulary (most frequent items)",
    min(1000, space.n),  # a space under 1,000 items: its size (a larger minimum fails)
    max(space.n, 1000),
    min(30_000, space.n),
    step=1000,
    key="an_restrict",
)
if c3.button("Run evaluation", type="primary", key="an_run"):
    with common.friendly("The evaluation"), st.spinner("Answering every question…"):
        source = upload if upload is not None else google_analogies_path()
        ev = evaluate_analogies(space, source, restrict_vocab=int(restrict), method=method)
        state["an_eval"] = {
            "accuracy": ev.accuracy,
            "oov": ev.oov,
            "questions": ev.questions,
            "sections": {n: (s.accuracy, s.total) for n, s in ev.sections.items()},
        }
if state.get("an_eval"):
    ev_d = state["an_eval"]
    st.metric(
        "Accuracy",
        f"{ev_d['accuracy']:.1%}",
        help=f"{ev_d['oov']:,} of {ev_d['questions']:,} questions were skipped because a "
        "word is outside the vocabulary.",
    )
    st.plotly_chart(section_bars(ev_d["sections"]), width="stretch", key="an_bars")
