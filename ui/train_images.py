"""The Train page's image trainers: SimCLR and the teaching-size CLIP, and their records."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pandas as pd
import streamlit as st

from explorer.core.errors import InputError
from explorer.core.safe_text import md
from explorer.runtime.jobs import fresh_key
from explorer.train.image_jobs import BUILTIN_IMAGES, TEACHING_NOTE, check_training_cost
from ui import cache, common
from ui.build_ui import forget_uploads, safe_name, save_upload, upload_dir

BUILTIN = "Built-in Fashion-MNIST"
UPLOAD = "Upload a .zip of images"
# How long training takes, in words that hold on any machine: the time grows with the
# images and epochs, and the job's progress bar reports it as it runs.
SIMCLR_TIME = (
    "Training takes minutes on a CPU, longer with more images or epochs. The job says its "
    "estimate as it starts, and the progress bar shows the time left."
)
CLIP_TIME = (
    "Training takes minutes on a CPU, longer with more images or epochs; the progress "
    "bar shows the time left."
)


def _source(prefix: str, captions: bool) -> tuple[str | None, Any, Any]:
    """(BUILTIN_IMAGES or None for an upload, the images upload, the captions upload)."""
    kind = st.radio("Images", [BUILTIN, UPLOAD], horizontal=True, key=f"{prefix}_source")
    if kind == BUILTIN:
        return BUILTIN_IMAGES, None, None
    gen = st.session_state.get(f"{prefix}_gen", 0)
    images = st.file_uploader(
        "Images (.zip of PNG/JPEG files)", type=["zip"], key=f"{prefix}_zip_{gen}"
    )
    table = None
    if captions:
        table = st.file_uploader(
            "Captions (CSV: a file name column and a caption column; an optional label column)",
            type=["csv"],
            key=f"{prefix}_captions_{gen}",
        )
    return None, images, table


def _name(prefix: str, default: str) -> tuple[str, bool | None]:
    """(space name, replace): replace False when free, True when confirmed, None: refused."""
    name = safe_name(st.text_input("Name of the new space", value=default, key=f"{prefix}_name"))
    existing = {m["name"]: m for m in common.saved_spaces()}
    if name not in existing:
        return name, False
    if existing[name].get("sample"):
        st.warning(f"'{md(name)}' is a built-in sample: choose another name.")
        return name, None
    st.warning(f"A space named '{md(name)}' already exists.", icon=":material/warning:")
    return name, True if st.checkbox(f"Replace '{md(name)}'", key=f"{prefix}_replace") else None


def _run(
    prefix: str, what: str, job: Any, source: str, name: str, params: dict, options: dict
) -> None:
    check_training_cost(int(options.get("limit") or 0), int(params.get("epochs") or 1))
    bar = st.progress(0.0, text="Waiting to start…")
    try:
        cache.run_job(
            fresh_key(prefix, name),  # every press trains afresh
            what,
            job,
            source,
            str(common.spaces_root() / name),
            params,
            options,
            on_status=common.job_bar(bar),
        )
    finally:
        bar.empty()
    forget_uploads()
    st.session_state[f"{prefix}_gen"] = st.session_state.get(f"{prefix}_gen", 0) + 1
    common.set_active(name)
    st.rerun()


def _staged(images: Any, table: Any, need_table: bool) -> tuple[str, str | None]:
    """Save the uploads in a private folder: (images path, captions path or None)."""
    if images is None:
        raise InputError("Upload a .zip of PNG or JPEG images first, or use the built-in images.")
    if need_table and table is None:
        raise InputError("Upload the captions CSV too: CLIP learns from image–caption pairs.")
    folder = upload_dir()
    return str(save_upload(images, folder)), (
        str(save_upload(table, folder / "captions")) if table is not None else None
    )


def simclr_form() -> None:
    """SimCLR: images → a space learned from two augmented views of each image."""
    from explorer.train.image_jobs import simclr_job
    from explorer.train.simclr import SimCLRParams

    st.caption(
        "SimCLR trains a small CNN to give two random crops of the same image the same "
        "vector, and different images different ones (the NT-Xent loss). No labels are used; "
        "the classes only score the result against raw pixels and PCA of pixels."
    )
    source, images, _ = _source("sc", captions=False)
    name, clash = _name("sc", "simclr-fashion" if source else "simclr-images")
    pressed, params, limit = _settings(
        "sc",
        SimCLRParams,
        "Images used",
        10_000,
        SIMCLR_TIME,
        "Train SimCLR",
    )
    if pressed:
        with common.friendly("Training"):
            _check(params, name, clash)
            path = source or _staged(images, None, False)[0]
            options = {"limit": limit, "overwrite": bool(clash)}
            _run("sc", "Training SimCLR", simclr_job, path, name, asdict(params), options)


def clip_form() -> None:
    """The teaching-size CLIP: an image encoder trained against frozen MiniLM text."""
    from explorer.train.clip import ClipParams
    from explorer.train.image_jobs import clip_job

    st.caption(
        "Trains a small image encoder so that each image lands where MiniLM puts its "
        "caption (CLIP's InfoNCE loss, with the text side frozen). Text search and zero-shot "
        "labels then reach images. " + TEACHING_NOTE
    )
    source, images, table = _source("cl", captions=True)
    name, clash = _name("cl", "clip-fashion" if source else "clip-images")
    pressed, params, limit = _settings(
        "cl",
        ClipParams,
        "Training images",
        6_000,
        CLIP_TIME,
        "Train CLIP",
    )
    if pressed:
        with common.friendly("Training"):
            _check(params, name, clash)
            path, captions = (source, None) if source else _staged(images, table, True)
            options = {"limit": limit, "overwrite": bool(clash), "captions": captions}
            _run("cl", "Training CLIP", clip_job, str(path), name, asdict(params), options)


def _settings(
    prefix: str, cls: Any, limit_label: str, limit: int, note: str, button: str
) -> tuple[bool, Any, int]:
    """A trainer's settings form: (pressed, its parameters `cls`, images to use)."""
    d = cls()
    with st.form(f"{prefix}_form"):
        c = st.columns(3)
        epochs = c[0].number_input("Epochs", 1, 200, d.epochs, key=f"{prefix}_epochs")
        used = c[1].number_input(limit_label, 100, 60_000, limit, step=1000, key=f"{prefix}_limit")
        seed = c[2].number_input("Seed", 0, 2**31 - 1, d.seed, key=f"{prefix}_seed")
        st.caption(note)
        pressed = st.form_submit_button(button, type="primary", key=f"{prefix}_train")
    return pressed, cls(epochs=int(epochs), seed=int(seed)), int(used)


def _check(params: Any, name: str, clash: bool | None) -> None:
    """InputError when the name may not be used or a setting is out of range."""
    if clash is None:
        raise InputError(f"Choose another name, or confirm replacing '{name}'.")
    params.validate()


def show_image_record(record: dict[str, Any]) -> None:
    """A trained image space: loss per epoch and its held-out figures."""
    epochs = pd.DataFrame(record.get("epochs") or [])
    c = st.columns(3)
    c[0].metric("Images", f"{int(record.get('images', 0)):,}")
    c[1].metric("Training time", f"{float(record.get('seconds', 0.0)):.0f} s")
    if record.get("estimate_s"):
        c[2].metric("Estimated beforehand", f"{float(record['estimate_s']):.0f} s")
    if not epochs.empty:
        st.caption("Loss per epoch (mean over its batches)")
        st.line_chart(epochs.set_index("epoch")["loss"], height=200)
    if record.get("comparison"):
        st.markdown("**The learned space against pixels, on the same images**")
        st.dataframe(pd.DataFrame(record["comparison"]), hide_index=True, width="stretch")
        st.caption(
            "kNN accuracy: 5 nearest neighbours vote on held-out images; ARI: k-means "
            "clusters against the classes; trustworthiness: how well a 2-D map keeps "
            "each image's neighbours."
        )
    scores = record.get("scores")
    if scores:
        _show_clip_scores(scores)
    st.info(str(record.get("note", TEACHING_NOTE)), icon=":material/school:")


def _show_clip_scores(s: dict[str, Any]) -> None:
    st.markdown(f"**On {int(s['n_images']):,} held-out images, {int(s['n_classes'])} classes**")
    c = st.columns(3)
    c[0].metric("Zero-shot accuracy", f"{s['zeroshot_accuracy']:.1%}")
    c[1].metric("Chance", f"{s['chance']:.1%}")
    c[2].metric("Majority class", f"{s['majority']:.1%}")
    rows = [
        {"direction": "text → image", **s["recall_t2i"]},
        {"direction": "image → text", **s["recall_i2t"]},
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    from explorer.train.clip import ZEROSHOT_TEMPLATE

    prompt = str(s.get("prompt", ""))
    kept_out = (
        "a template not used in training"
        if prompt == ZEROSHOT_TEMPLATE
        else "a general prompt; your own captions may use the same words"
    )
    st.caption(
        "Recall@k at the class level: a query counts as found when one of its k nearest "
        "items (of the other modality) has its class. Zero-shot: each image takes the class "
        f"whose prompt “{md(prompt)}” is nearest ({kept_out})."
    )
