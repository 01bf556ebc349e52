"""Train: Word2Vec word vectors (beside GloVe), a SimCLR image space, a teaching-size CLIP."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from explorer.core.errors import InputError
from explorer.core.safe_text import md
from explorer.runtime.jobs import fresh_key
from explorer.train.beside_glove import Comparison
from explorer.train.corpus import BUILTIN, BUILTIN_TITLE
from explorer.train.word2vec import Word2VecParams, train_job, training_record
from ui import cache, common, train_images
from ui.build_ui import forget_uploads, safe_name, save_upload, upload_dir

BUILTIN_CHOICE = "Built-in corpus"
UPLOAD_CHOICE = "Upload a .txt"
DEFAULTS = Word2VecParams()

common.setup("Train", ":material/model_training:")
common.sidebar()
st.title("Train")
st.caption(
    "Watch a space being learned: Word2Vec word vectors from a corpus, an image space by "
    "contrastive learning (SimCLR), or images and text in one space (CLIP-style). Each "
    "result opens like any other space."
)


def corpus_choice() -> tuple[str | None, str, Any]:
    """(what train_job reads: "builtin" or None for an upload, default space name, upload)."""
    kind = st.radio(
        "Corpus",
        [BUILTIN_CHOICE, UPLOAD_CHOICE],
        horizontal=True,
        key="tr_corpus",
        captions=[
            f"{BUILTIN_TITLE}: about 547,000 words of English",
            "One document per line, UTF-8",
        ],
    )
    if kind == BUILTIN_CHOICE:
        return BUILTIN, "word2vec-builtin", None
    gen = st.session_state.get("tr_upload_gen", 0)
    upload = st.file_uploader("Corpus (.txt)", type=["txt"], key=f"tr_upload_{gen}")
    stem = Path(safe_name(upload.name)).stem if upload is not None else "corpus"
    return None, f"word2vec-{stem}", upload


def replace_ok(name: str) -> bool | None:
    """False: the name is free; True: replacing it was confirmed; None: it may not be used."""
    existing = {m["name"]: m for m in common.saved_spaces()}
    if name not in existing:
        return False
    if existing[name].get("sample"):
        st.warning(f"'{md(name)}' is a built-in sample: choose another name.")
        return None
    st.warning(f"A space named '{md(name)}' already exists.", icon=":material/warning:")
    return True if st.checkbox(f"Replace '{md(name)}'", key="tr_replace") else None


def params_form() -> tuple[bool, Word2VecParams, dict[str, Any]]:
    """The settings form: (pressed, parameters, options for train_job)."""
    with st.form("tr_form"):
        c = st.columns(4)
        arch = c[0].radio("Architecture", ["CBOW", "Skip-gram"], key="tr_arch")
        dim = c[1].number_input("Dimensions", 2, 1000, DEFAULTS.dim, key="tr_dim")
        window = c[2].number_input("Window", 1, 50, DEFAULTS.window, key="tr_window")
        epochs = c[3].number_input("Epochs", 1, 200, DEFAULTS.epochs, key="tr_epochs")
        c = st.columns(4)
        min_count = c[0].number_input(
            "Min count", 1, 1_000_000, DEFAULTS.min_count, key="tr_min_count"
        )
        seed = c[1].number_input("Seed", 0, 2**32 - 1, DEFAULTS.seed, key="tr_seed")
        max_vocab = c[2].number_input(
            "Most words kept (0 = all)", 0, 10_000_000, 0, key="tr_max_vocab"
        )
        max_tokens = c[3].number_input(
            "Use only the first N words (0 = all)", 0, 10**10, 0, step=50_000, key="tr_tokens"
        )
        compare = st.checkbox("Compare with GloVe", value=True, key="tr_compare")
        pressed = st.form_submit_button("Train", type="primary", key="tr_train")
    params = Word2VecParams(
        sg=arch == "Skip-gram",
        dim=int(dim),
        window=int(window),
        min_count=int(min_count),
        epochs=int(epochs),
        seed=int(seed),
        max_vocab=int(max_vocab) or None,
    )
    return pressed, params, {"max_tokens": int(max_tokens) or None, "compare": compare}


def train(corpus: str | None, upload: Any, name: str, params: Word2VecParams, options: Any) -> None:
    """Run the training job with a progress bar, then open the new space."""
    params.validate()
    if corpus is None:
        if upload is None:
            raise InputError("Upload a .txt corpus first, or choose the built-in corpus.")
        corpus = str(save_upload(upload, upload_dir()))
    bar = st.progress(0.0, text="Waiting to start…")
    try:
        cache.run_job(
            fresh_key("train", name),  # every press trains afresh
            "Training Word2Vec",
            train_job,
            corpus,
            str(common.spaces_root() / name),
            asdict(params),
            options,
            on_status=common.job_bar(bar),
        )
    finally:
        bar.empty()
    if upload is not None:
        forget_uploads()
        st.session_state["tr_upload_gen"] = st.session_state.get("tr_upload_gen", 0) + 1
    common.set_active(name)
    st.rerun()


def show_record(record: dict[str, Any], title: str) -> None:
    """The active trained space: its training, its loss per epoch, and GloVe beside it."""
    st.subheader(f"The active space: {md(title)}")
    epochs = pd.DataFrame(record.get("epochs") or [])
    c = st.columns(4)
    c[0].metric("Words", f"{record.get('vocab', 0):,}")
    c[1].metric("Corpus tokens", f"{record.get('tokens', 0):,}")
    c[2].metric("Training time", f"{float(record.get('seconds', 0.0)):.1f} s")
    if not epochs.empty:
        c[3].metric("Last epoch's loss", f"{epochs['loss'].iloc[-1]:,.0f}")
        st.caption("Loss per epoch (gensim's, summed over the epoch)")
        st.line_chart(epochs.set_index("epoch")["loss"], height=220)
    for note in record.get("notes") or []:
        st.caption(f":material/info: {md(note)}")
    if record.get("comparison"):
        show_comparison(Comparison.from_dict(record["comparison"]), int(record.get("tokens", 0)))
    pages = [
        ("pages/1_Map.py", "Map", ":material/scatter_plot:"),
        ("pages/2_Neighbours.py", "Neighbours", ":material/hub:"),
        ("pages/3_Analogies.py", "Analogies", ":material/functions:"),
    ]
    for col, (path, label, icon) in zip(st.columns(len(pages)), pages, strict=True):
        with col:
            common.link(path, label, icon)


def show_comparison(cmp: Comparison, tokens: int) -> None:
    st.markdown(f"**Beside {md(cmp.reference)}**, on the {cmp.shared_words:,} words both know")
    c = st.columns(3)
    c[0].metric(
        f"Neighbour overlap (Jaccard@{cmp.k})",
        f"{cmp.overlap:.3f}",
        help=f"Mean over the {cmp.queries:,} most frequent shared words: 1 = the same "
        "neighbours in both spaces, 0 = none in common.",
    )
    if cmp.analogy_trained is not None and cmp.analogy_reference is not None:
        c[1].metric("Google analogies, trained", f"{cmp.analogy_trained:.1%}")
        c[2].metric("Google analogies, GloVe", f"{cmp.analogy_reference:.1%}")
        st.caption(
            f"On the {cmp.analogy_questions:,} questions whose four words both spaces have, "
            "with the shared words as the candidates."
        )
    else:
        c[1].metric("Google analogies", "none answerable")
    st.caption(
        f"Trained on {tokens:,} words against GloVe's 6 billion: a corpus this small "
        "gives fewer sensible neighbours and far fewer analogies."
    )
    if cmp.probes:
        st.dataframe(
            pd.DataFrame(
                {
                    "word": [p.word for p in cmp.probes],
                    "trained neighbours": [", ".join(p.trained) for p in cmp.probes],
                    f"{cmp.reference} neighbours": [", ".join(p.reference) for p in cmp.probes],
                    "overlap": [round(p.jaccard, 2) for p in cmp.probes],
                }
            ),
            hide_index=True,
            width="stretch",
        )


def word2vec_tab() -> None:
    st.caption(
        "Word2Vec learns a word's vector by predicting its neighbours in the text; compare "
        "the result with GloVe, which was trained on 6 billion words."
    )
    corpus, default_name, upload = corpus_choice()
    name = safe_name(st.text_input("Name of the new space", value=default_name, key="tr_name"))
    clash = replace_ok(name)
    pressed, params, options = params_form()
    if pressed:
        with common.friendly("Training"):
            if clash is None:
                raise InputError(f"Choose another name, or confirm replacing '{name}'.")
            train(corpus, upload, name, params, {**options, "overwrite": bool(clash)})


w2v_tab, simclr_tab, clip_tab = st.tabs(["Word2Vec", "SimCLR (images)", "CLIP (images + text)"])
with w2v_tab:
    word2vec_tab()
with simclr_tab:
    train_images.simclr_form()
with clip_tab:
    train_images.clip_form()

folder = common.active_folder()
if folder is not None:
    with common.friendly("Reading the active space"):
        record = training_record(cache.open_space(folder))
        if record is None:
            st.info(
                "The active space was not trained here. Train one above to see its loss "
                "per epoch and how it compares with GloVe."
            )
        elif record.get("trainer") in ("simclr", "clip"):
            st.subheader(f"The active space: {md(Path(folder).name)}")
            train_images.show_image_record(record)
        else:
            show_record(record, f"Word2Vec on {record.get('corpus', {}).get('name', '')}")
