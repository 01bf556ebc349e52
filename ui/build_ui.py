"""Home-page pieces: sample cards, the upload flow and the build progress."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import streamlit as st

from explorer.build import build_from_file, build_sample, reindex
from explorer.errors import InputError
from explorer.models import DEFAULT_MODEL
from explorer.samples import SAMPLES
from explorer.sources import detect_format, read_table_preview

from .common import friendly, set_active, spaces_root

TABLE_FORMATS = ("csv", "tsv", "parquet", "jsonl", "txt")
UPLOAD_TYPES = [
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


def _progress_bar(label: str) -> Any:
    bar = st.progress(0.0, text=label)
    start = time.perf_counter()

    def update(f: float, msg: str) -> None:
        elapsed = time.perf_counter() - start
        eta = f" · about {elapsed / f - elapsed:.0f} s left" if 0.05 < f < 1 else ""
        bar.progress(min(max(f, 0.0), 1.0), text=f"{msg}{eta if 'left' not in msg else ''}")

    return bar, update


def build_sample_now(name: str) -> None:
    bar, update = _progress_bar(f"Building {SAMPLES[name].title}…")
    with friendly(f"Building {name}"):
        _, _, summary = build_sample(name, spaces_root() / name, progress=update)
        set_active(summary.folder)
        st.session_state["last_summary"] = summary.lines()
        bar.empty()
        st.rerun()


def rebuild_index_now(folder: str) -> None:
    """The explicit action that rebuilds a space's search index, with progress."""
    bar, update = _progress_bar("Rebuilding the index…")
    with friendly("Rebuilding the index"):
        reindex(Path(folder), progress=update)
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


def _safe_name(name: str) -> str:
    # Uploaded names are hostile: keep only a plain base name.
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".") or "upload"
    return base[:120]


def _save_upload(upload: Any, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _safe_name(upload.name)
    path.write_bytes(upload.getvalue())
    return path


def upload_flow() -> None:
    st.markdown(
        "Upload a **text table** (CSV, TSV, Parquet, JSONL, or .txt with one item per "
        "line), **vectors** (.npy, .npz, a table of numbers, the Embedding Projector's "
        "TSV) or a **word-vector file** (word2vec, GloVe, fastText .vec)."
    )
    main = st.file_uploader("Data file", type=UPLOAD_TYPES, key="upload_main")
    meta = st.file_uploader(
        "Metadata for a vectors file (optional: CSV/TSV, one row per vector)",
        type=["csv", "tsv", "txt", "parquet", "jsonl"],
        key="upload_meta",
    )
    if main is None:
        return
    with friendly("Reading the file"):
        session = st.session_state.setdefault("upload_dir", uuid.uuid4().hex[:12])
        folder = spaces_root() / ".uploads" / session
        path = _save_upload(main, folder)
        meta_path = _save_upload(meta, folder / "meta") if meta is not None else None
        fmt = detect_format(path)
        read: dict[str, Any] = {"fmt": fmt}
        build_kwargs: dict[str, Any] = {}
        model: str | None = None
        if fmt in TABLE_FORMATS:
            preview = read_table_preview(path, fmt=fmt)
            if preview.empty:
                raise InputError(
                    f"{main.name} has no rows (it is empty, or holds only a header). "
                    "Upload a file with at least one item."
                )
            st.caption(f"Preview of {main.name} ({fmt})")
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
            if st.checkbox(
                "Fast mode (bfloat16)",
                key="upload_fast",
                help="About 1.5–3× faster on CPUs with bfloat16 instructions, with vectors "
                "nearly identical to float32; other CPUs use float32 and say so.",
            ):
                build_kwargs["precision"] = "bf16"
        else:
            st.caption(f"Detected format: {fmt}")
        if meta_path is not None:
            read["metadata_path"] = meta_path
        limit = st.number_input(
            "Use only the first N rows (0 = all)", min_value=0, value=0, step=1000
        )
        if limit:
            read["limit"] = int(limit)
        name = st.text_input("Name of the new space", value=Path(_safe_name(main.name)).stem)
        if st.button("Build space", type="primary"):
            out = spaces_root() / _safe_name(name)
            bar, update = _progress_bar("Reading…")
            _, _, summary = build_from_file(
                path, out, read_kwargs=read, model=model, progress=update, **build_kwargs
            )
            bar.empty()
            set_active(summary.folder)
            st.session_state["last_summary"] = summary.lines()
            st.rerun()


def model_picker() -> str | None:
    kind = st.radio(
        "Model",
        ["Packaged all-MiniLM-L6-v2 (offline)", "Sentence-transformers id", "Local model folder"],
        horizontal=True,
    )
    if kind.startswith("Packaged"):
        return DEFAULT_MODEL
    if kind.startswith("Sentence"):
        return st.text_input("Model id", placeholder="sentence-transformers/all-mpnet-base-v2")
    return st.text_input("Folder", placeholder="/path/to/model")
