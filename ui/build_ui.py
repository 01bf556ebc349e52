"""Home-page pieces: sample cards, the upload flow and the build progress."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from explorer.core.errors import InputError
from explorer.core.limits import limits, over_limit
from explorer.core.safe_text import md
from explorer.core.store import SpaceExists, list_spaces
from explorer.ingest.image_space import is_image_input
from explorer.ingest.models import allowed_models, local_model_choices, models_root
from explorer.ingest.samples import SAMPLES
from explorer.ingest.sources import detect_format, read_table_preview
from explorer.runtime import tasks
from explorer.runtime.jobs import fresh_key
from ui import cache
from ui.common import friendly, job_bar, set_active, spaces_root

TABLE_FORMATS = ("csv", "tsv", "parquet", "jsonl", "txt")
UPLOAD_TYPES = [
    "zip",
    "csv",
    "tsv",
    "tab",
    "parquet",
    "pq",
    "jsonl",
    "ndjson",
    "txt",
    "npy",
    "npz",
    "json",
    "bytes",
    "vec",
    "bin",
]


def build_sample_now(name: str, open_it: bool = True) -> None:
    """Build a sample once, in a worker: a visitor who finds another build of it running
    waits for that build and uses its result instead of building it again. `open_it`:
    make it the active space (Compare builds a partner and keeps its own)."""
    bar = st.progress(0.0, text=f"Building {SAMPLES[name].title}…")
    with friendly(f"Building {name}"):
        try:
            lines = cache.run_job(
                f"build:{name}",
                f"Building {name}",
                tasks.build_sample,
                name,
                str(spaces_root() / name),
                on_status=job_bar(bar),
            )
            st.session_state["last_summary"] = lines
        except SpaceExists:
            pass  # built meanwhile by someone else: use theirs
        if open_it:
            set_active(name)
        bar.empty()
        st.rerun()


def rebuild_index_now(folder: str) -> None:
    """The explicit action that rebuilds a space's search index, in a worker."""
    bar = st.progress(0.0, text="Rebuilding the index…")
    with friendly("Rebuilding the index"):
        cache.run_job(
            fresh_key("reindex", Path(folder).name),
            "Rebuilding the index",
            tasks.rebuild_index,
            folder,
            on_status=job_bar(bar),
        )
        bar.empty()
        st.rerun()


def sample_cards(built: set[str]) -> None:
    cols = st.columns(3)
    for i, s in enumerate(SAMPLES.values()):
        with cols[i % 3].container(border=True):
            st.markdown(f"**{s.title}**")
            st.caption(f"{s.size} · {s.model or 'given vectors'}  \n{s.description}")
            label = "Open" if s.name in built else "Build and open"
            if st.button(label, key=f"sample_{s.name}", width="stretch"):
                if s.name in built:
                    set_active(spaces_root() / s.name)
                    st.rerun()
                build_sample_now(s.name)


def safe_name(name: str) -> str:
    # Uploaded names are hostile: keep only a plain base name.
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".") or "upload"
    return base[:120]


UPLOADS = "explorer-upload-"
# An upload folder no session has touched for this long belongs to no one any more.
UPLOAD_IDLE_S = 3600


def _session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "none"


def _session_alive(session_id: str) -> bool | None:
    """Whether the server still has the browser session `session_id` (None: cannot tell,
    e.g. outside a server)."""
    if not runtime.exists():
        return None
    return bool(runtime.get_instance().is_active_session(session_id))


def sweep_uploads(own: Path | None = None) -> None:
    """Remove the upload folders of sessions that ended, and of any no session touched for
    :data:`UPLOAD_IDLE_S` (`own`, this session's, stays)."""
    now = time.time()
    for old in Path(tempfile.gettempdir()).glob(f"{UPLOADS}*"):
        if old == own or not old.is_dir() or old.is_symlink():
            continue
        owner = old.name[len(UPLOADS) :].split("--", 1)[0]
        if _session_alive(owner) is False or now - old.stat().st_mtime > UPLOAD_IDLE_S:
            shutil.rmtree(old, ignore_errors=True)


def upload_dir() -> Path:
    """This session's private upload folder: a temporary folder outside the spaces
    folder, named by the session, removed after each build (:func:`forget_uploads`), when
    the session ends, or after an hour untouched (:func:`sweep_uploads`)."""
    known = st.session_state.get("upload_dir")
    folder = Path(known) if known and Path(known).is_dir() else None
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix=f"{UPLOADS}{_session_id()}--"))
        st.session_state["upload_dir"] = str(folder)
    os.utime(folder)  # in use: not idle
    sweep_uploads(own=folder)
    return folder


def forget_uploads() -> None:
    folder = st.session_state.pop("upload_dir", None)
    if folder and Path(folder).name.startswith(UPLOADS):
        shutil.rmtree(folder, ignore_errors=True)


def save_upload(upload: Any, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe_name(upload.name)
    limit = limits().max_file_bytes
    if upload.size > limit:
        raise over_limit(
            f"Bytes in {safe_name(upload.name)}",
            upload.size,
            "max_file_bytes",
            "Upload a smaller file, or fewer rows.",
        )
    if not path.is_file() or path.stat().st_size != upload.size:
        # One file per uploader: the one the form shows now (a session's uploads stay
        # within a few files of max_file_bytes, however often it drops new ones).
        for other in folder.iterdir():
            if other.is_file() and other != path:
                other.unlink(missing_ok=True)
        path.write_bytes(upload.getvalue())  # once per upload, not on every rerun
    return path


def upload_flow() -> None:
    st.markdown(
        "Upload a **text table** (CSV, TSV, Parquet, JSONL, or .txt with one item per "
        "line), **vectors** (.npy, .npz, a table of numbers, the Embedding Projector's "
        "TSV), a **word-vector file** (word2vec, GloVe, fastText .vec), or **images** "
        "(a .zip of PNG/JPEG files, or a .npy of image arrays) to embed with a CLIP model."
    )
    # A new key after each build empties the uploaders: the built file is not kept.
    gen = st.session_state.get("upload_gen", 0)
    main = st.file_uploader("Data file", type=UPLOAD_TYPES, key=f"upload_main_{gen}")
    meta = st.file_uploader(
        "Metadata for a vectors file (optional: CSV/TSV, one row per vector)",
        type=["csv", "tsv", "txt", "parquet", "jsonl"],
        key=f"upload_meta_{gen}",
    )
    if main is None:
        return
    with friendly("Reading the file"):
        folder = upload_dir()
        path = save_upload(main, folder)
        meta_path = save_upload(meta, folder / "meta") if meta is not None else None
        if is_image_input(path):
            _images_flow(path, main.name, gen)
            return
        fmt = detect_format(path)
        read, build_kwargs, model = _table_choices(path, fmt, main.name)
        if meta_path is not None:
            read["metadata_path"] = meta_path
        limit = st.number_input(
            "Use only the first N rows (0 = all)", min_value=0, value=0, step=1000
        )
        if limit:
            read["limit"] = int(limit)
        name = safe_name(
            st.text_input("Name of the new space", value=Path(safe_name(main.name)).stem)
        )
        overwrite = _clash(name)
        if st.button("Build space", type="primary", disabled=overwrite is None):
            kwargs = {"read_kwargs": read, "model": model, "overwrite": bool(overwrite)}
            _run_build(tasks.build_file, path, name, {**kwargs, **build_kwargs}, gen, "Reading…")


def _table_choices(
    path: Path, fmt: str, upload_name: str
) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """The reading options, build options and model the user picks for a file of format
    `fmt` (a text table gets a preview, its columns and a model; vectors need none)."""
    read: dict[str, Any] = {"fmt": fmt}
    build_kwargs: dict[str, Any] = {}
    if fmt not in TABLE_FORMATS:
        st.caption(f"Detected format: {fmt}")
        return read, build_kwargs, None
    preview = read_table_preview(path, fmt=fmt)
    if preview.empty:
        raise InputError(
            f"{upload_name} has no rows (it is empty, or holds only a header). "
            "Upload a file with at least one item."
        )
    st.caption(f"Preview of {md(upload_name)} ({fmt})")
    st.dataframe(preview.head(8), width="stretch", hide_index=True)
    cols = [str(c) for c in preview.columns]
    if fmt != "txt":
        c1, c2, c3 = st.columns(3)
        text_col = c1.selectbox("Text column", ["(pick the longest)", *cols])
        id_col = c2.selectbox("Id column", ["(row numbers)", *cols])
        labels = c3.multiselect("Label / metadata columns", cols)
        if text_col != "(pick the longest)":
            read["text_col"] = text_col
        if id_col != "(row numbers)":
            read["id_col"] = id_col
        if labels:
            read["label_cols"] = labels
    model = model_picker()
    if not st.checkbox(
        "Fast mode (bfloat16)",
        value=True,
        key="upload_fast",
        help="bfloat16 where this server's CPU runs it natively and the model's vectors "
        "stay within cosine 0.99 of float32's (checked on a few probe texts); otherwise, "
        "or unticked, float32.",
    ):
        build_kwargs["precision"] = "fp32"
    return read, build_kwargs, model


def _images_flow(path: Path, upload_name: str, gen: int) -> None:
    """Images (a .zip, or a .npy of image arrays) and optional captions → a CLIP space."""
    st.caption(
        "Images: each is embedded by the image side of a CLIP model, and each caption by its "
        "text side, into one space (the map is coloured by modality)."
    )
    table = st.file_uploader(
        "Captions (optional CSV: a file name column, a caption column, any label columns)",
        type=["csv"],
        key=f"upload_captions_{gen}",
    )
    model = model_picker()
    limit = st.number_input("Use only the first N images (0 = all)", 0, None, 0, step=1000)
    name = safe_name(st.text_input("Name of the new space", value=Path(upload_name).stem))
    overwrite = _clash(name)
    if st.button("Build space", type="primary", disabled=overwrite is None):
        captions = save_upload(table, path.parent / "captions") if table is not None else None
        kwargs = {
            "model": model,
            "captions": str(captions) if captions else None,
            "limit": int(limit) or None,
            "overwrite": bool(overwrite),
        }
        _run_build(tasks.build_images, path, name, kwargs, gen, "Reading the images…")


def _run_build(job: Any, path: Path, name: str, kwargs: dict, gen: int, first: str) -> None:
    """Build `name` from the upload at `path` as a worker job with a progress bar, then
    forget the upload, empty the uploaders and open the new space."""
    bar = st.progress(0.0, text=first)
    try:
        lines = cache.run_job(
            fresh_key("upload", name),  # every press is its own build
            f"Building {name}",
            job,
            str(path),
            str(spaces_root() / name),
            kwargs,
            on_status=job_bar(bar),
        )
    finally:
        bar.empty()
    forget_uploads()
    st.session_state["upload_gen"] = gen + 1
    set_active(name)
    st.session_state["last_summary"] = lines
    st.rerun()


def _clash(name: str) -> bool | None:
    """Whether the build may replace a space called `name`: False when the name is
    free, True when the user confirmed replacing it, None when it may not go ahead."""
    existing = {m["name"]: m for m in list_spaces(spaces_root())}
    if name not in existing:
        return False
    if existing[name].get("sample"):
        st.warning(
            f"'{md(name)}' is a built-in sample and cannot be replaced: choose another name.",
            icon=":material/warning:",
        )
        return None
    st.warning(f"A space named '{md(name)}' already exists.", icon=":material/warning:")
    if st.checkbox(f"Replace the existing space '{md(name)}'", key="upload_replace"):
        return True
    return None


def model_picker() -> str | None:
    """The model to embed with: only what the operator allows (never a typed path)."""
    options = allowed_models()
    root = models_root()
    local = local_model_choices() if root is not None else []
    kinds = ["Allowed models"] + (["A model folder on this server"] if local else [])
    kind = st.radio("Model", kinds, horizontal=True, key="upload_model_kind")
    if kind == "Allowed models":
        return str(
            st.selectbox(
                "Model",
                options,
                key="upload_model",
                help="The packaged all-MiniLM-L6-v2 works offline; the operator can allow "
                "more (EXPLORER_MODELS).",
            )
        )
    return str(st.selectbox("Model folder", local, key="upload_model_folder"))
