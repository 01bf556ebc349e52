"""SimCLR (Chen et al. 2020): learn an image space from the images alone, no labels.

Each step takes a batch of N images, makes two random views of each
(:func:`explorer.train.encoder.augment`), encodes all 2N views with a small CNN to
representations h, maps them through a projection head (an MLP) to z, and minimises the
NT-Xent loss: among the 2N × 2N cosine similarities of z divided by the temperature
(self-similarities masked out), each view's cross-entropy towards its twin. As in the
paper, the space's vectors are the representations h (before the head), scaled to unit
length; the head only serves the loss.

Here h is the encoder's standardised 4 × 4-grid features (:class:`SmallCNN`, 2,048
numbers at width 32) and the head is the encoder's linear layer followed by a 2-layer
MLP. A 128-d h taken after that linear layer was worse than raw pixels in kNN accuracy,
while the grid features beat them, as the paper found for layers further from the loss
(figures in docs/training.md).

Training is repeatable: a seed fixes the initial weights (drawn inside a forked torch
random state, so the caller's is untouched) and a ``torch.Generator`` the batches and
views; one process, the same thread count and library versions give the same vectors.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from explorer.core.errors import InputError
from explorer.core.progress import Progress
from explorer.core.validate import is_int
from explorer.train.encoder import (
    SmallCNN,
    as_tensor,
    augment,
    check_images,
    encode,
    seconds_per_step,
)
from explorer.train.word2vec import EpochStat

__all__ = [
    "MIN_IMAGES",
    "SimCLRParams",
    "SimCLRResult",
    "estimate_seconds",
    "train_simclr",
]

OnEpoch = Callable[[EpochStat], None]
# Fewer images than this give too few negatives for the loss to teach anything.
MIN_IMAGES = 16
_REPORT_EVERY = 0.5  # seconds between progress reports within an epoch
_TRAIN_SHARE = 0.95  # of the progress bar; encoding the images takes the rest
# Brightness and contrast jitter of the views: ±0.6, stronger than augment's default
# ±0.4, gives a more accurate space on Fashion-MNIST (docs/training.md).
JITTER = 0.6


@dataclass(frozen=True)
class SimCLRParams:
    """SimCLR settings.

    Attributes:
        epochs: passes over the images. The default gives a space that beats raw pixels
            in kNN accuracy on Fashion-MNIST; more epochs gain little (docs/training.md).
        batch_size: images per step (2× as many views); a smaller set uses all its images.
        dim: size of the projection head's output z, where the loss is computed.
        hidden: size of the head's hidden layers (the encoder's output).
        width: channels of the encoder's first block (then 2× and 4×).
        grid: the encoder's last maps are average-pooled to grid × grid; the
            representation h (the space's vectors) has :attr:`rep_dim` = 4·width·grid².
        temperature: divides the cosine similarities in the loss; lower sharpens it.
        lr: Adam's learning rate at the start; it decays to 0 along a cosine.
        weight_decay: Adam's L2 penalty on the weights.
        seed: random seed for the initial weights, the batches and the views.
    """

    epochs: int = 5
    batch_size: int = 256
    dim: int = 64
    hidden: int = 128
    width: int = 32
    grid: int = 4
    temperature: float = 0.5
    lr: float = 1e-3
    weight_decay: float = 1e-6
    seed: int = 42

    def validate(self) -> None:
        """Raise InputError naming the first bad setting and what it may be."""
        ranges = {
            "epochs": (1, 1000, "passes over the images"),
            "batch_size": (2, 4096, "images per step"),
            "dim": (2, 2048, "projection size"),
            "hidden": (2, 4096, "the head's hidden size"),
            "width": (1, 256, "channels of the first block"),
            "grid": (1, 4, "cells a side the last maps are pooled to"),
        }
        for name, (lo, hi, what) in ranges.items():
            v = getattr(self, name)
            if not is_int(v) or not lo <= v <= hi:
                raise InputError(
                    f"{name} ({what}) must be a whole number from {lo:,} to {hi:,}, not {v!r}."
                )
        reals = {
            "temperature": (0.01, 10.0, "of the loss"),
            "lr": (1e-6, 1.0, "learning rate"),
        }
        for name, (low, high, what) in reals.items():
            v = getattr(self, name)
            if not isinstance(v, int | float) or isinstance(v, bool) or not low <= v <= high:
                raise InputError(f"{name} ({what}) must be from {low:g} to {high:g}, not {v!r}.")
        wd = self.weight_decay
        if not isinstance(wd, int | float) or isinstance(wd, bool) or not 0.0 <= wd <= 1.0:
            raise InputError(f"weight_decay must be from 0 to 1, not {wd!r}.")
        if not is_int(self.seed) or not 0 <= self.seed < 2**32:
            raise InputError(f"seed must be a whole number from 0 to 2³²-1, not {self.seed!r}.")

    @property
    def rep_dim(self) -> int:
        """Dimensions of the representation h, the space's vectors."""
        return 4 * self.width * self.grid**2


@dataclass(frozen=True, eq=False)
class SimCLRResult:
    """What training made.

    Attributes:
        vectors: (n, rep_dim) float32 unit rows, the representations h of the images.
        epochs: per-epoch mean loss (NT-Xent, nats per view) and seconds.
        seconds: the whole run, encoding included.
        model: the trained encoder (eval mode); :meth:`encode` gives new images' vectors.
    """

    vectors: np.ndarray
    epochs: list[EpochStat]
    seconds: float
    params: SimCLRParams
    model: SmallCNN

    @property
    def losses(self) -> list[float]:
        return [e.loss for e in self.epochs]

    def encode(self, images: np.ndarray) -> np.ndarray:
        """(m, h, w[, C]) images like the training ones → (m, rep_dim) float32 unit rows."""
        return encode(self.model, images, features=True)


def nt_xent(z: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent loss of (2N, d) projections whose rows i and i + N are twin views.

    Mean over the 2N views of the cross-entropy that picks the twin among the 2N - 1
    others, on cosine similarity / temperature.
    """
    z = F.normalize(z, dim=1)
    sim = z @ z.T / temperature
    sim.fill_diagonal_(float("-inf"))  # a view is not its own positive or negative
    n = z.shape[0] // 2
    twin = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return F.cross_entropy(sim, twin)


class _Trainer:
    """The encoder, head, optimiser and random stream of one run; one :meth:`step` each batch."""

    def __init__(self, channels: int, p: SimCLRParams, total_steps: int) -> None:
        # Seeded weights without touching the caller's global torch random state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(p.seed)
            self.model = SmallCNN(channels, p.hidden, p.width, grid=p.grid, standardise=True)
            # The encoder's own linear layer is the head's first; then a 2-layer MLP.
            self.head = nn.Sequential(
                nn.Linear(p.hidden, p.hidden), nn.ReLU(inplace=True), nn.Linear(p.hidden, p.dim)
            )
        self.gen = torch.Generator().manual_seed(p.seed)
        params = [*self.model.parameters(), *self.head.parameters()]
        self.opt = torch.optim.Adam(params, lr=p.lr, weight_decay=p.weight_decay)
        self.p, self.total, self.done = p, max(total_steps, 1), 0

    def step(self, batch: torch.Tensor) -> float:
        """One optimiser step on (B, C, h, w) images; returns the batch's loss."""
        # Cosine decay of the learning rate from lr to 0 over the run.
        for group in self.opt.param_groups:
            group["lr"] = self.p.lr * 0.5 * (1 + math.cos(math.pi * self.done / self.total))
        views = torch.cat(
            [augment(batch, self.gen, jitter=JITTER), augment(batch, self.gen, jitter=JITTER)]
        )
        loss = nt_xent(self.head(self.model(views)), self.p.temperature)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.done += 1
        return float(loss.detach())


def _layout(n: int, p: SimCLRParams) -> tuple[int, int]:
    """(batch size, steps per epoch): every step a full batch; a set smaller than a
    batch is one batch. Each epoch is a new shuffle, so a left-over tail is only
    skipped in that epoch."""
    batch = min(p.batch_size, n)
    return batch, n // batch


def estimate_seconds(
    n_images: int, params: SimCLRParams | None = None, image_shape: Sequence[int] = (28, 28)
) -> float:
    """Seconds :func:`train_simclr` will take on `n_images` images of `image_shape`
    ((h, w) or (h, w, C)), from timing a few real steps on random images of that shape.

    Includes encoding the images at the end (timed on one batch).
    """
    p = params or SimCLRParams()
    p.validate()
    if n_images < MIN_IMAGES:
        raise InputError(f"SimCLR needs at least {MIN_IMAGES} images, not {n_images}.")
    shape = tuple(int(s) for s in image_shape)
    batch, steps = _layout(n_images, p)
    rng = np.random.default_rng(0)
    x = as_tensor(rng.integers(0, 256, size=(batch, *shape), dtype=np.uint8))
    trainer = _Trainer(x.shape[1], p, steps * p.epochs)
    per_step = seconds_per_step(lambda: trainer.step(x), steps=3)
    images = x.permute(0, 2, 3, 1).numpy() if len(shape) == 3 else x[:, 0].numpy()
    per_encode = seconds_per_step(lambda: encode(trainer.model, images, features=True), steps=1)
    return per_step * steps * p.epochs + per_encode * n_images / batch


def _checked_images(images: object) -> np.ndarray:
    a = check_images(images)
    if a.shape[0] < MIN_IMAGES:
        raise InputError(
            f"SimCLR needs at least {MIN_IMAGES} images to contrast with each other; "
            f"got {a.shape[0]}."
        )
    return a


def _eta(seconds: float) -> str:
    if seconds < 90:
        return f"about {max(1, round(seconds))} s left"
    return f"about {round(seconds / 60)} min left"


def train_simclr(
    images: np.ndarray,
    params: SimCLRParams | None = None,
    *,
    progress: Progress | None = None,
    on_epoch: OnEpoch | None = None,
) -> SimCLRResult:
    """Train SimCLR on `images` and return their representations.

    Args:
        images: (n, h, w) or (n, h, w, C) uint8 pixels (or floats in 0..1), h, w ≥ 8.
        progress: (fraction 0..1, message) at most every half second while training,
            e.g. "Epoch 3/10 · loss 4.21 · about 40 s left", and before encoding.
        on_epoch: called with each epoch's :class:`EpochStat` as it ends.

    Raises:
        InputError: bad parameters; fewer than 16 images; not 2-D images with at most
            4 channels; NaN pixels.
    """
    p = params or SimCLRParams()
    p.validate()
    a = _checked_images(images)
    t0 = time.perf_counter()
    x = as_tensor(a)
    batch, steps = _layout(x.shape[0], p)
    trainer = _Trainer(x.shape[1], p, steps * p.epochs)
    stats: list[EpochStat] = []
    last_report = -math.inf
    for epoch in range(1, p.epochs + 1):
        started, total = time.perf_counter(), 0.0
        order = torch.randperm(x.shape[0], generator=trainer.gen)
        for i in range(steps):
            loss = trainer.step(x[order[i * batch : (i + 1) * batch]])
            total += loss
            now = time.perf_counter()
            if progress is not None and (now - last_report >= _REPORT_EVERY or i == steps - 1):
                last_report = now
                done = trainer.done / trainer.total
                left = (now - t0) / done * (1 - done)
                progress(
                    _TRAIN_SHARE * done,
                    f"Epoch {epoch}/{p.epochs} · loss {loss:.2f} · {_eta(left)}",
                )
        stats.append(EpochStat(epoch, total / steps, time.perf_counter() - started))
        if on_epoch is not None:
            on_epoch(stats[-1])
    if progress is not None:
        progress(_TRAIN_SHARE, f"Encoding {x.shape[0]:,} images")
    trainer.model.eval()
    vectors = encode(trainer.model, a, features=True)
    return SimCLRResult(
        vectors=vectors,
        epochs=stats,
        seconds=time.perf_counter() - t0,
        params=p,
        model=trainer.model,
    )
