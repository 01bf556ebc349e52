"""Train an image space (SimCLR) or an image–text space (teaching-size CLIP) and save it.

``IMAGES`` is ``fashion-mnist`` (the built-in Fashion-MNIST, offline), or a folder, .zip
or .npy of images (:func:`explorer.ingest.image_space.load_image_input`). The saved space is
like any other, with thumbnails, a ``modality`` column and a ``training`` record in its
manifest: parameters, loss per epoch, time and the held-out figures.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.limits import limits, over_limit
from explorer.core.progress import Progress, stage
from explorer.core.store import refuse_clash
from explorer.ingest.images import ImageSet

__all__ = [
    "BUILTIN_IMAGES",
    "TEACHING_NOTE",
    "teaching_note",
    "builtin_images",
    "clip_job",
    "simclr_job",
    "check_training_cost",
    "train_clip_space",
    "train_simclr_space",
]

BUILTIN_IMAGES = "fashion-mnist"
TEACHING_NOTE = (
    "A teaching-size model: a small CNN trained in minutes on 28×28 greyscale clothes in "
    "ten classes. It shows how contrastive training builds a shared space; it is not a "
    "general image model."
)


def teaching_note(images: str | None = None, n: int | None = None) -> str:
    """What a teaching-size model was trained on: Fashion-MNIST's clothes (`images`
    None or the built-in name), else `n` of the user's images from `images`."""
    if images is None or images in (BUILTIN_IMAGES, "Fashion-MNIST"):
        return TEACHING_NOTE
    what = f"{n:,} of your images" if n is not None else "your images"
    return (
        f"A teaching-size model: a small CNN trained in minutes on {what} ({images}), "
        f"shrunk to {_SIDE}×{_SIDE}. It shows how contrastive training builds a shared "
        "space from these images alone; it is not a general image model."
    )


# User images are shrunk to this side for the small CNN (Fashion-MNIST is 28).
_SIDE = 32


def builtin_images(split: str, limit: int, seed: int = 0) -> tuple[ImageSet, list[str]]:
    """`limit` Fashion-MNIST images of `split` drawn at random (repeatable) and classes."""
    from explorer.ingest.datasets import FASHION_CLASSES, fashion_mnist

    images, labels = fashion_mnist(split)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(labels), size=min(limit, len(labels)), replace=False))
    names = [f"fashion-{split}-{i:05d}" for i in rows]
    classes = [FASHION_CLASSES[int(v)] for v in labels[rows]]
    return ImageSet.from_array(images[rows], names), classes


def _pixels(images: ImageSet, builtin: bool) -> np.ndarray:
    """(n, s, s, C) uint8 for the small CNN: Fashion-MNIST at its 28, others at 32."""
    return images.pixels(28 if builtin else _SIDE)


def _record(
    trainer: str, params: Any, epochs: list[Any], seconds: float, note: str, **more: Any
) -> dict:
    return {
        "trainer": trainer,
        "params": asdict(params),
        "epochs": [e if isinstance(e, dict) else asdict(e) for e in epochs],
        "seconds": round(seconds, 3),
        "note": note,
        **more,
    }


def check_training_cost(n_images: int, epochs: int) -> None:
    """Refuse a training whose images × epochs is over the operator's bound, before it
    starts (its time grows with both)."""
    work = int(n_images) * int(epochs)
    if work > limits().max_image_epochs:
        raise over_limit(
            "Images × epochs of this training",
            work,
            "max_image_epochs",
            "Use fewer images or fewer epochs.",
        )


def train_simclr_space(
    source: str | Path,
    out: Path,
    params: Any = None,
    *,
    limit: int = 10_000,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train SimCLR on the images of `source` and save their learned space in `out`.

    With class labels (Fashion-MNIST), the learned space is set against raw pixels and
    PCA of pixels on the same images (kNN accuracy, ARI, map trustworthiness).

    Returns:
        {"folder", "n", "seconds", "estimate_s", "epochs", "comparison"}.
    """
    from explorer.ingest.image_space import image_items, load_image_input, save_image_space
    from explorer.train.image_eval import compare_image_spaces, image_baselines
    from explorer.train.simclr import SimCLRParams, estimate_seconds, train_simclr

    p = params or SimCLRParams()
    p.validate()
    check_training_cost(limit, p.epochs)  # at most `limit` images are read
    out = Path(out)
    refuse_clash(out, overwrite)
    if str(source) == BUILTIN_IMAGES:
        images, classes = builtin_images("test", limit)
    else:
        images, classes = load_image_input(Path(source), max_images=limit), None
    pixels = _pixels(images, classes is not None)
    estimate = estimate_seconds(len(images), p, pixels.shape[1:])
    if progress:
        progress(0.0, f"Training SimCLR on {len(images):,} images: about {estimate:.0f} s")
    result = train_simclr(pixels, p, progress=stage(progress, 0.0, 0.8))
    items = image_items(images)
    comparison = None
    if classes is not None:
        items["class"] = classes
        if progress:
            progress(0.8, "Comparing with raw pixels and PCA of pixels")
        spaces = {"SimCLR": result.vectors, **image_baselines(pixels)}
        comparison = [asdict(s) for s in compare_image_spaces(spaces, np.asarray(classes))]
    record = _record(
        "simclr",
        result.params,
        result.epochs,
        result.seconds,
        teaching_note(Path(str(source)).name, len(images)),
        estimate_s=round(estimate, 1),
        comparison=comparison,
        images=len(images),
    )
    summary = save_image_space(
        images,
        items,
        result.vectors,
        out,
        model=None,
        source={"kind": "trained", "trainer": "simclr", "images": str(Path(str(source)).name)},
        extra={"title": f"SimCLR on {Path(str(source)).name}", "training": record},
        overwrite=overwrite,
        progress=stage(progress, 0.9, 1.0),
    )
    return {
        "folder": summary.folder,
        "n": summary.n,
        "seconds": round(result.seconds, 1),
        "estimate_s": round(estimate, 1),
        "epochs": record["epochs"],
        "comparison": comparison,
    }


def _split(n: int, held_out: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, held-out rows), sorted; at least one of each."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    k = min(max(1, round(n * held_out)), n - 1)
    return np.sort(order[k:]), np.sort(order[:k])


def _user_pairs(
    images: ImageSet, captions: Path | bytes
) -> tuple[pd.DataFrame, list[str], list[str], str]:
    """(captions table, caption per image, label per image, label column or "") of a
    user's collection: an image's first caption is its training caption; its label is
    the table's first other column, else the caption itself."""
    from explorer.ingest.images import read_captions

    table = read_captions(captions, images.names)
    if table.empty:
        raise InputError("The captions table names none of the images; check its file column.")
    first = table.drop_duplicates("file").set_index("file")
    missing = [n for n in images.names if n not in first.index]
    if missing:
        raise InputError(
            f"{len(missing):,} image(s) have no caption (the first: {missing[0]!r}); give every "
            "image a caption, or leave those images out."
        )
    label_col = next((c for c in table.columns if c not in ("file", "text")), "")
    caps = [str(first.at[n, "text"]) for n in images.names]
    labels = [str(first.at[n, label_col]) for n in images.names] if label_col else caps
    return table, caps, labels, str(label_col)


@dataclass
class _ClipRun:
    """A trained teaching CLIP: the space's images and items, the images' vectors (n, d)
    unit rows, the training result, the held-out scores and the collection's name."""

    images: ImageSet
    items: pd.DataFrame
    vectors: np.ndarray
    result: Any
    scores: Any
    name: str
    trained: int  # images the model was trained on


def _clip_builtin(p: Any, limit: int, progress: Progress | None) -> _ClipRun:
    """Fashion-MNIST: `limit` training images with templated captions; the space and the
    figures are 2,000 test images and every caption."""
    from explorer.ingest.image_space import image_items
    from explorer.train.clip import (
        TEMPLATES,
        ZEROSHOT_TEMPLATE,
        caption_for,
        class_captions,
        score_clip,
        train_clip,
    )
    from explorer.train.encoder import encode

    train_set, train_cls = builtin_images("train", limit)
    space_set, space_cls = builtin_images("test", 2_000)
    train_caps = class_captions(train_cls, seed=p.seed)
    result = train_clip(_pixels(train_set, True), train_caps, p, progress=progress)
    vec = encode(result.model, _pixels(space_set, True))
    all_caps = {caption_for(c, t): c for c in sorted(set(train_cls)) for t in TEMPLATES}
    table = pd.DataFrame({"file": "", "text": list(all_caps), "class": list(all_caps.values())})
    items = image_items(space_set)
    items["class"] = space_cls
    texts = table.assign(id=[f"caption:{i}" for i in range(len(table))], modality="text")
    items = pd.concat([items, texts[items.columns]], ignore_index=True)
    scores = score_clip(
        vec,
        space_cls,
        list(all_caps),
        list(all_caps.values()),
        p.text_model,
        prompt=ZEROSHOT_TEMPLATE,
    )
    return _ClipRun(space_set, items, vec, result, scores, "Fashion-MNIST", len(train_set))


def _clip_user(
    source: str | Path,
    captions: Path | bytes | None,
    p: Any,
    limit: int,
    held_out: float,
    progress: Progress | None,
) -> _ClipRun:
    """A user's images and captions: trained on all but `held_out` of the images, which
    give the figures; the space holds every image and caption."""
    from explorer.ingest.image_space import image_items, load_image_input
    from explorer.train.clip import USER_TEMPLATE, score_clip, train_clip
    from explorer.train.encoder import encode

    if captions is None:
        raise InputError("Give a captions table (--captions FILE) to train CLIP on images.")
    images = load_image_input(Path(source), max_images=limit)
    table, caps, labels, label_col = _user_pairs(images, captions)
    train_rows, test_rows = _split(len(images), held_out, p.seed)
    pixels = _pixels(images, False)
    result = train_clip(pixels[train_rows], [caps[i] for i in train_rows], p, progress=progress)
    vec = encode(result.model, pixels)
    cap_labels = table[label_col].astype(str).tolist() if label_col else table["text"].tolist()
    scores = score_clip(
        vec[test_rows],
        [labels[i] for i in test_rows],
        table["text"].tolist(),
        cap_labels,
        p.text_model,
        prompt=USER_TEMPLATE,
    )
    name = Path(str(source)).name
    return _ClipRun(images, image_items(images, table), vec, result, scores, name, len(train_rows))


def train_clip_space(
    source: str | Path,
    out: Path,
    params: Any = None,
    *,
    captions: Path | bytes | None = None,
    limit: int = 6_000,
    held_out: float = 0.2,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train the teaching-size CLIP (:mod:`explorer.train.clip`) and save the space.

    Built-in: `limit` Fashion-MNIST training images with captions made from their class
    and templates; the space holds 2,000 held-out test images and the captions. A user's
    images: the captions CSV pairs them; `held_out` of the images are kept out of
    training for the figures, and the space holds all images and all captions.

    Returns:
        {"folder", "n", "seconds", "epochs", "scores", "note"}.
    """
    from explorer.ingest.image_space import save_image_space
    from explorer.train.clip import ClipParams

    p = params or ClipParams()
    p.validate()
    check_training_cost(limit, p.epochs)  # at most `limit` images are read
    out = Path(out)
    refuse_clash(out, overwrite)
    training = stage(progress, 0, 0.85)
    if str(source) == BUILTIN_IMAGES:
        run = _clip_builtin(p, limit, training)
    else:
        run = _clip_user(source, captions, p, limit, held_out, training)
    vectors = np.concatenate([run.vectors, _embed_caption_items(run.items, p.text_model)])
    note = teaching_note(run.name, run.trained)
    res = run.result
    record = _record(
        "clip",
        res.params,
        res.epochs,
        res.seconds,
        note,
        scores=run.scores.to_dict(),
        images=len(run.images),
    )
    summary = save_image_space(
        run.images,
        run.items,
        vectors,
        out,
        model=p.text_model,
        source={"kind": "trained", "trainer": "clip", "images": run.name},
        extra={
            "title": f"Teaching-size CLIP on {run.name}",
            "description": note,
            "training": record,
        },
        overwrite=overwrite,
        progress=stage(progress, 0.9, 1.0),
    )
    return {
        "folder": summary.folder,
        "n": summary.n,
        "seconds": round(res.seconds, 1),
        "epochs": res.epochs,
        "scores": run.scores.to_dict(),
        "note": note,
    }


def _embed_caption_items(items: pd.DataFrame, model: str) -> np.ndarray:
    """The text side's vectors of the items whose modality is text, in order."""
    from explorer.ingest.embed import embed_texts

    texts = items.loc[items["modality"] == "text", "text"].astype(str).tolist()
    return embed_texts(texts, model).vectors


def simclr_job(
    source: str, out: str, params: dict[str, Any], options: dict[str, Any], *, progress: Progress
) -> dict[str, Any]:
    """The app's job (``explorer.runtime.jobs``): :func:`train_simclr_space`."""
    from explorer.train.simclr import SimCLRParams

    t = time.perf_counter()
    summary = train_simclr_space(
        source,
        Path(out),
        SimCLRParams(**params),
        limit=int(options.get("limit", 10_000)),
        overwrite=bool(options.get("overwrite", False)),
        progress=progress,
    )
    return {**summary, "total_s": round(time.perf_counter() - t, 1)}


def clip_job(
    source: str, out: str, params: dict[str, Any], options: dict[str, Any], *, progress: Progress
) -> dict[str, Any]:
    """The app's job (``explorer.runtime.jobs``): :func:`train_clip_space`."""
    from explorer.train.clip import ClipParams

    captions = options.get("captions")
    return train_clip_space(
        source,
        Path(out),
        ClipParams(**params),
        captions=Path(captions) if captions else None,
        limit=int(options.get("limit", 6_000)),
        overwrite=bool(options.get("overwrite", False)),
        progress=progress,
    )
