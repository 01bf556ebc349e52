"""A small convolutional image encoder, batched augmentations and encoding, in pure torch.

Shared by the image trainers (SimCLR in :mod:`explorer.train.simclr`, and a CLIP-style
trainer). torch is imported at the top of this module, so importing it costs about a
second; ``explorer.train`` itself does not import it.

* :func:`as_tensor`: uint8 images (n, h, w) or (n, h, w, C) → float32 (n, C, h, w) in 0..1;
* :class:`SmallCNN`: conv 3×3 + BatchNorm + ReLU blocks with max pooling, average pooling
  to a small grid, and a linear layer to ``dim``; any input of at least 8×8 pixels;
* :func:`augment`: random resized crop with a small shift, horizontal flip, brightness and
  contrast jitter and Gaussian noise, for a whole batch at once, repeatable with a
  ``torch.Generator`` (torchvision is not needed);
* :func:`encode`: a trained model's unit vectors for new images;
* :func:`seconds_per_step`: time a few training steps, to say how long training will take.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from explorer.core.errors import InputError

__all__ = [
    "MIN_SIDE",
    "SmallCNN",
    "as_tensor",
    "augment",
    "check_images",
    "encode",
    "seconds_per_step",
]

# Three 2× poolings: below 8 pixels the last blocks would see a single pixel.
MIN_SIDE = 8


def check_images(images: object, what: str = "images") -> np.ndarray:
    """`images` as an array of (n, h, w) or (n, h, w, C) pixels, checked.

    Accepts uint8 (0..255) or floats in 0..1 (the caller's own scaling is kept).

    Raises:
        InputError: another shape, fewer than 8 pixels a side, more than 4 channels,
            NaN or infinite values.
    """
    a = np.asarray(images)
    if a.ndim not in (3, 4):
        raise InputError(
            f"The {what} must be an array of n images of h × w pixels, or h × w × channels "
            f"(3 or 4 dimensions), not of shape {a.shape}."
        )
    if a.ndim == 4 and not 1 <= a.shape[3] <= 4:
        raise InputError(
            f"The {what} have {a.shape[3]} channels; give 1 to 4 (grey, RGB, RGBA), "
            "with the channels last."
        )
    if min(a.shape[1], a.shape[2]) < MIN_SIDE:
        raise InputError(
            f"The {what} are {a.shape[1]} × {a.shape[2]} pixels; the encoder needs at least "
            f"{MIN_SIDE} × {MIN_SIDE}."
        )
    if a.dtype.kind not in "uif":
        raise InputError(f"The {what} must hold numbers (pixel values), not {a.dtype}.")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise InputError(f"The {what} hold NaN or infinite values.")
    return a


def as_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (n, h, w) or (n, h, w, C) pixels → float32 (n, C, h, w) in 0..1.

    Integer pixels are divided by 255; float pixels are taken as already in 0..1.
    """
    a = check_images(images)
    # torch wants a writable array; data sets read with np.frombuffer are not.
    x = torch.from_numpy(np.require(a, requirements=["C", "W"]))
    x = x.float() / 255.0 if a.dtype.kind in "ui" else x.float()
    return x.unsqueeze(1) if a.ndim == 3 else x.permute(0, 3, 1, 2).contiguous()


def _block(c_in: int, c_out: int) -> nn.Sequential:
    # No conv bias: BatchNorm's shift replaces it.
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class SmallCNN(nn.Module):
    """Conv blocks → average pool (to a grid) → linear: (n, channels, h, w) → (n, dim).

    Widths ``width``, ``2·width``, ``4·width`` at full, half and quarter resolution (two
    blocks at the first two), each halving by 2×2 max pooling; ceil-mode pooling keeps
    odd sizes (7 → 4), so 8×8 digits and 28×28 clothes both work. The last maps are
    average-pooled to a ``grid`` × ``grid`` grid (1, the default: global average
    pooling) and flattened to the *features*, optionally standardised by a BatchNorm
    without scale or shift (running statistics in eval mode), which the linear ``head``
    maps to ``dim``.

    SimCLR uses ``grid=4, standardise=True`` and keeps the features as its space: where
    a part of a garment is matters for telling its class, and a 4 × 4 grid keeps it where
    global pooling loses it; standardising lets every feature weigh alike in cosine
    neighbours (the kNN accuracies are in docs/training.md).

    Attributes:
        features: size of the features the head reads (4·width·grid²);
            :meth:`represent` returns them.
        dim: output size.
    """

    def __init__(
        self,
        channels: int = 1,
        dim: int = 128,
        width: int = 32,
        *,
        grid: int = 1,
        standardise: bool = False,
    ) -> None:
        super().__init__()
        if not 1 <= channels <= 4 or dim < 1 or width < 1 or not 1 <= grid <= MIN_SIDE // 2:
            raise InputError(
                f"SmallCNN needs 1 to 4 channels, positive dim and width and a grid of 1 to "
                f"{MIN_SIDE // 2}, not channels={channels!r}, dim={dim!r}, width={width!r}, "
                f"grid={grid!r}."
            )
        w = width
        self.channels, self.dim, self.grid = channels, dim, grid
        self.features = 4 * w * grid * grid
        self.body = nn.Sequential(
            _block(channels, w),
            _block(w, w),
            nn.MaxPool2d(2, ceil_mode=True),
            _block(w, 2 * w),
            _block(2 * w, 2 * w),
            nn.MaxPool2d(2, ceil_mode=True),
            _block(2 * w, 4 * w),
            nn.AdaptiveAvgPool2d(grid),
            nn.Flatten(),
        )
        if standardise:
            # Cosine neighbours then weigh every feature alike instead of being led by
            # the few largest.
            self.body.append(nn.BatchNorm1d(self.features, affine=False))
        self.head = nn.Linear(self.features, dim)

    def represent(self, x: torch.Tensor) -> torch.Tensor:
        """(n, channels, h, w) float pixels in 0..1 → (n, features), before the head."""
        out: torch.Tensor = self.body(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(n, channels, h, w) float pixels in 0..1 → (n, dim), not normalised."""
        out: torch.Tensor = self.head(self.body(x))
        return out


def _uniform(n: int, lo: float, hi: float, gen: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen)


def augment(
    x: torch.Tensor,
    gen: torch.Generator,
    *,
    scale: tuple[float, float] = (0.6, 1.0),
    shift: float = 0.1,
    jitter: float = 0.4,
    noise: float = 0.03,
) -> torch.Tensor:
    """Random views of a batch (n, C, h, w) in 0..1 → (n, C, h, w) in 0..1.

    Each image independently: a random resized crop keeping `scale` of its area (aspect
    ratio 3/4..4/3) shifted by up to `shift` of the side (the outside is black), a
    horizontal flip half the time, brightness and contrast each scaled by 1 ± `jitter`
    (80% of the time), and Gaussian noise of standard deviation `noise`. One affine warp
    (bilinear) does crop, shift and flip. Same `gen` state, same views.

    The jitter matters most on grey images: without it SimCLR's space is far less
    accurate in kNN. SimCLR uses ±0.6, which beat the default ±0.4 while ±0.8 gained
    nothing; blur and random erasing, tried as well, lowered the accuracy (the figures
    are in docs/training.md).
    """
    n = x.shape[0]
    area = _uniform(n, *scale, gen)
    log_ratio = _uniform(n, math.log(3 / 4), math.log(4 / 3), gen)
    ratio = torch.exp(log_ratio)
    # Crop sides as fractions of the image: sx · sy = area, sx / sy = ratio.
    sx = torch.sqrt(area * ratio).clamp(max=1.0)
    sy = torch.sqrt(area / ratio).clamp(max=1.0)
    # Centre anywhere the crop stays inside, plus the extra shift (in -1..1 units).
    tx = (1 - sx) * _uniform(n, -1, 1, gen) + 2 * shift * _uniform(n, -1, 1, gen)
    ty = (1 - sy) * _uniform(n, -1, 1, gen) + 2 * shift * _uniform(n, -1, 1, gen)
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = sx * flip, tx
    theta[:, 1, 1], theta[:, 1, 2] = sy, ty
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    on = (torch.rand(n, generator=gen) < 0.8).float()
    bright = 1 + on * _uniform(n, -jitter, jitter, gen)
    contrast = 1 + on * _uniform(n, -jitter, jitter, gen)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = (out - mean) * contrast.view(n, 1, 1, 1) + mean
    out = out * bright.view(n, 1, 1, 1)
    out = out + noise * torch.randn(out.shape, generator=gen)
    return out.clamp_(0.0, 1.0)


@torch.no_grad()
def encode(
    model: nn.Module, images: np.ndarray, batch: int = 512, *, features: bool = False
) -> np.ndarray:
    """(n, h, w[, C]) images → (n, dim) float32 unit rows from `model` in eval mode.

    Args:
        features: the :class:`SmallCNN`'s features before its head instead, (n,
            features) (what SimCLR's space holds).

    The model's mode (train or eval) is restored afterwards.
    """
    if features and not isinstance(model, SmallCNN):
        raise TypeError("features=True needs a SmallCNN.")
    x = as_tensor(images)
    fn = model.represent if isinstance(model, SmallCNN) and features else model
    was_training = model.training
    model.eval()
    try:
        parts = [fn(x[s : s + batch]) for s in range(0, x.shape[0], batch)]
    finally:
        model.train(was_training)
    out = torch.cat(parts) if parts else torch.zeros(0, 1)
    return F.normalize(out, dim=1).numpy().astype(np.float32)


def seconds_per_step(step: Callable[[], object], steps: int = 3, warmup: int = 1) -> float:
    """Median seconds of `steps` calls of `step` after `warmup` calls (for an ETA).

    The first call pays one-off costs (allocations, oneDNN kernel choice), so it is not
    timed.
    """
    for _ in range(warmup):
        step()
    times = []
    for _ in range(max(1, steps)):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return float(np.median(times))
