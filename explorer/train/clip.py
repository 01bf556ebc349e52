"""A teaching-size CLIP: an image encoder trained against a frozen text space (LiT).

"Locked-image text tuning" (Zhai et al., 2022) turned around: the *text* side is the
packaged all-MiniLM-L6-v2, frozen; a small CNN (:class:`explorer.train.encoder.SmallCNN`)
learns to put each image where MiniLM puts its caption, with CLIP's symmetric InfoNCE
loss and a learned temperature. Text queries are then embedded by MiniLM as in any
MiniLM space, and land among the images: text→image search and zero-shot labels work.

Captions repeat (a class and a few templates), so a batch holds the same caption for
many images: the loss compares each image with the batch's *distinct* captions, and
each caption with all the images it describes (several positives). Retrieval is scored
at the class level (a hit is an item of the query's class), since identical captions
cannot tell their images apart. This is a teaching model: 28×28 greyscale clothes,
ten classes, minutes on a CPU; real CLIP models learn from hundreds of millions of
photos with free-form captions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from explorer.core.errors import InputError
from explorer.core.progress import Progress
from explorer.core.validate import is_int
from explorer.ingest.models import DEFAULT_MODEL

__all__ = [
    "ClipParams",
    "ClipResult",
    "ClipScores",
    "TEMPLATES",
    "USER_TEMPLATE",
    "ZEROSHOT_TEMPLATE",
    "caption_for",
    "class_captions",
    "score_clip",
    "train_clip",
]


# Captions for training; the zero-shot prompt uses a template kept out of them.
TEMPLATES = (
    "a photo of a {}",
    "a picture of a {}",
    "a black and white photo of a {}",
    "an image showing a {}",
    "a small photo of the {}",
)
ZEROSHOT_TEMPLATE = "a product photo of a {}"
# A user's own images: their captions are the user's, so the prompt is the plain,
# general one (its class name as written, in lower case).
USER_TEMPLATE = "a photo of a {}"
# How people name Fashion-MNIST's classes ("a photo of a trouser" is not English, and
# the frozen text model places what people write).
PHRASES = {"T-shirt/top": "t-shirt", "Trouser": "pair of trousers", "Bag": "handbag"}


def caption_for(label: str, template: str) -> str:
    """A caption from a class name: ("Trouser", "a photo of a {}") → "a photo of a pair
    of trousers"; other names in lower case, "/" read as "or"."""
    return template.format(PHRASES.get(label, label.lower().replace("/", " or ")))


def class_captions(labels: Sequence[str], seed: int = 0) -> list[str]:
    """One caption per item: its class in a template drawn at random (repeatable)."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(TEMPLATES), size=len(labels))
    return [caption_for(str(lab), TEMPLATES[int(t)]) for lab, t in zip(labels, picks, strict=True)]


@dataclass(frozen=True)
class ClipParams:
    """Settings of the image side's training.

    Attributes:
        epochs: passes over the training images.
        batch_size: image–caption pairs per step.
        lr: AdamW learning rate.
        width: the CNN's first width (see SmallCNN).
        temperature: the starting softmax temperature (it is learned, as in CLIP).
        augment: random crops/flips/jitter of the images while training.
        seed: random seed (same seed, same machine: same encoder).
        text_model: the frozen text side (an allowed sentence-transformers model).
    """

    epochs: int = 8
    batch_size: int = 256
    lr: float = 2e-3
    width: int = 32
    temperature: float = 0.07
    augment: bool = True
    seed: int = 0
    text_model: str = DEFAULT_MODEL

    def validate(self) -> None:
        """Raise InputError naming the first bad setting."""
        for name, lo, hi in (("epochs", 1, 200), ("batch_size", 8, 4096), ("width", 4, 128)):
            v = getattr(self, name)
            if not is_int(v) or not lo <= v <= hi:
                raise InputError(f"{name} must be a whole number from {lo} to {hi}, not {v!r}.")
        if not isinstance(self.lr, int | float) or not 0 < self.lr <= 1:
            raise InputError(f"lr (learning rate) must be above 0 and at most 1, not {self.lr!r}.")
        if not isinstance(self.temperature, int | float) or not 0.001 <= self.temperature <= 10:
            raise InputError(f"temperature must be from 0.001 to 10, not {self.temperature!r}.")
        if not is_int(self.seed) or not 0 <= self.seed < 2**32:
            raise InputError(f"seed must be a whole number from 0 to 2³²-1, not {self.seed!r}.")


@dataclass
class ClipResult:
    """A trained image side: its encoder and how training went.

    Attributes:
        model: the trained SmallCNN ((n, C, h, w) → (n, text dim)).
        epochs: per epoch {"epoch", "loss", "seconds"}.
        seconds: training time (text embedding and epochs).
        text_dim: the text space's dimension.
    """

    model: Any
    params: ClipParams
    epochs: list[dict[str, float]]
    seconds: float
    text_dim: int


def _text_side(captions: Sequence[str], model: str) -> tuple[np.ndarray, np.ndarray]:
    """(distinct caption vectors (u, d) unit rows, (n,) index of each caption in them)."""
    from explorer.ingest.embed import embed_texts

    distinct, inverse = np.unique(np.asarray(captions, dtype=object), return_inverse=True)
    vecs = embed_texts([str(t) for t in distinct], model).vectors
    return vecs, inverse.astype(np.int64)


def _batch_loss(img: Any, txt: Any, caption: Any, scale: Any) -> Any:
    """Symmetric InfoNCE over a batch whose captions may repeat.

    img (b, d) and txt (u, d) unit rows; caption (b,) index of each image's caption in
    the batch's distinct captions. Image→text: a softmax over the u captions. Text→image:
    each caption's softmax over the b images, averaged over all its images.
    """
    import torch
    import torch.nn.functional as F

    logits = scale * img @ txt.T  # (b, u)
    i2t = F.cross_entropy(logits, caption)
    log_p = F.log_softmax(logits.T, dim=1)  # (u, b)
    pos = (caption[None, :] == torch.arange(txt.shape[0])[:, None]).float()
    t2i = -((log_p * pos).sum(1) / pos.sum(1).clamp(min=1)).mean()
    return (i2t + t2i) / 2


def train_clip(
    images: np.ndarray,
    captions: Sequence[str],
    params: ClipParams | None = None,
    *,
    progress: Progress | None = None,
) -> ClipResult:
    """Train a SmallCNN so that images land on their captions' frozen text vectors.

    Args:
        images: (n, h, w) or (n, h, w, C) uint8 pixels.
        captions: (n,) one caption per image (repeats are fine).
        progress: (fraction 0..1, message) per step, with the epoch, loss and time left.

    Raises:
        InputError: bad settings; fewer than 16 images; captions not one per image.
    """
    import torch

    from explorer.train.encoder import SmallCNN, as_tensor, augment

    p = params or ClipParams()
    p.validate()
    x_all = as_tensor(images)
    n = int(x_all.shape[0])
    if n < 16 or len(captions) != n:
        raise InputError(
            f"Training needs at least 16 images with one caption each; got {n:,} images and "
            f"{len(captions):,} captions."
        )
    t0 = time.perf_counter()
    if progress:
        progress(0.0, "Embedding the captions with the frozen text model")
    txt_np, cap_idx = _text_side(captions, p.text_model)
    txt_all, cap_all = torch.from_numpy(txt_np), torch.from_numpy(cap_idx)
    torch.manual_seed(p.seed)
    gen = torch.Generator().manual_seed(p.seed)
    model = SmallCNN(channels=int(x_all.shape[1]), dim=txt_np.shape[1], width=p.width)
    log_scale = torch.nn.Parameter(torch.tensor(math.log(1 / p.temperature)))
    opt = torch.optim.AdamW([*model.parameters(), log_scale], lr=p.lr, weight_decay=1e-4)
    steps_per_epoch = max(1, n // p.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=p.lr, total_steps=steps_per_epoch * p.epochs, pct_start=0.15
    )
    epochs: list[dict[str, float]] = []
    model.train()
    for epoch in range(1, p.epochs + 1):
        te, total = time.perf_counter(), 0.0
        order = torch.randperm(n, generator=gen)
        for step in range(steps_per_epoch):
            rows = order[step * p.batch_size : (step + 1) * p.batch_size]
            x = x_all[rows]
            x = augment(x, gen) if p.augment else x
            used, local = torch.unique(cap_all[rows], return_inverse=True)
            img = torch.nn.functional.normalize(model(x), dim=1)
            loss = _batch_loss(img, txt_all[used], local, log_scale.exp().clamp(max=100))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
            if progress:
                done = (epoch - 1) * steps_per_epoch + step + 1
                left = (time.perf_counter() - t0) / done * (steps_per_epoch * p.epochs - done)
                progress(
                    done / (steps_per_epoch * p.epochs),
                    f"Epoch {epoch}/{p.epochs} · loss {total / (step + 1):.3f} · "
                    f"about {left:.0f} s left",
                )
        epochs.append(
            {"epoch": epoch, "loss": total / steps_per_epoch, "seconds": time.perf_counter() - te}
        )
    model.eval()
    return ClipResult(model, p, epochs, time.perf_counter() - t0, int(txt_np.shape[1]))


@dataclass
class ClipScores:
    """Held-out figures of a CLIP-style space, scored at the class level.

    Attributes:
        recall_t2i, recall_i2t: {k: fraction of queries with an item of their class in
            the top k}, for k = 1, 5, 10 (text→image: each distinct caption queries the
            images; image→text: each image queries the distinct captions).
        zeroshot_accuracy: images labelled by the nearest class prompt, vs their class.
        chance: 1 / number of classes; majority: the largest class's share.
        n_images, n_classes: held-out images and classes scored.
    """

    recall_t2i: dict[int, float]
    recall_i2t: dict[int, float]
    zeroshot_accuracy: float
    chance: float
    majority: float
    n_images: int
    n_classes: int
    prompt: str = ZEROSHOT_TEMPLATE
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["recall_t2i"] = {f"recall@{k}": v for k, v in self.recall_t2i.items()}
        d["recall_i2t"] = {f"recall@{k}": v for k, v in self.recall_i2t.items()}
        return d


def _hit_rate(sims: np.ndarray, query_cls: np.ndarray, item_cls: np.ndarray, k: int) -> float:
    """Fraction of queries (rows of sims) whose top-k items include one of their class."""
    k = min(k, sims.shape[1])
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return float((item_cls[top] == query_cls[:, None]).any(axis=1).mean())


def score_clip(
    image_vectors: np.ndarray,
    labels: Sequence[str],
    captions: Sequence[str],
    caption_labels: Sequence[str],
    text_model: str = DEFAULT_MODEL,
    prompt: str = ZEROSHOT_TEMPLATE,
) -> ClipScores:
    """Recall@1/5/10 both ways and zero-shot accuracy of held-out images.

    Args:
        image_vectors: (n, d) unit rows of held-out images.
        labels: (n,) their classes.
        captions, caption_labels: captions to retrieve (distinct ones are used) and
            the class of each.
        prompt: the zero-shot template, "{}" standing for a class: Fashion-MNIST's is
            kept out of its training captions; a user's images get the general
            :data:`USER_TEMPLATE` with their classes as written.
    """
    from explorer.ingest.embed import embed_texts

    img = np.asarray(image_vectors, dtype=np.float32)
    cls = np.asarray([str(v) for v in labels], dtype=object)
    caps = {str(c): str(lab) for c, lab in zip(captions, caption_labels, strict=True)}
    cap_text = list(caps)
    cap_cls = np.asarray(list(caps.values()), dtype=object)
    cap_vec = embed_texts(cap_text, text_model).vectors
    sims = cap_vec @ img.T  # (captions, images)
    ks = (1, 5, 10)
    classes = sorted(set(cls.tolist()))
    if prompt == ZEROSHOT_TEMPLATE:
        texts = [caption_for(c, prompt) for c in classes]
    else:
        texts = [prompt.format(c.lower()) for c in classes]
    prompts = embed_texts(texts, text_model).vectors
    guess = np.asarray(classes, dtype=object)[np.argmax(img @ prompts.T, axis=1)]
    counts = np.unique(cls, return_counts=True)[1]
    return ClipScores(
        recall_t2i={k: _hit_rate(sims, cap_cls, cls, k) for k in ks},
        recall_i2t={k: _hit_rate(sims.T, cls, cap_cls, k) for k in ks},
        zeroshot_accuracy=float((guess == cls).mean()),
        chance=1.0 / len(classes),
        majority=float(counts.max() / counts.sum()),
        n_images=len(cls),
        n_classes=len(classes),
        prompt=prompt,
    )
