"""Which models may load is the operator's choice, never the browser's.

No test here reaches the hub or loads real weights: the SentenceTransformer constructor
is replaced by a cheap fake (except where a test shows that the real loader runs no
code a model folder names), and hub calls are replaced by fakes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import explorer.ingest.models as mod
from explorer.core.errors import ModelError
from explorer.ingest.models import (
    DEFAULT_MODEL,
    allowed_models,
    check_model_allowed,
    load_model,
    local_model_choices,
    models_root,
    resolve_model,
    trusted_models,
)

_OPERATOR_VARS = (
    "EXPLORER_MODELS",
    "EXPLORER_MODELS_ROOT",
    "EXPLORER_ALLOW_HUB",
    "EXPLORER_MAX_MODEL_BYTES",
    "EXPLORER_MAX_MODELS_LOADED",
    "EXPLORER_EMBED_CACHE_BYTES",
)


@pytest.fixture(autouse=True)
def _operator_unset(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in _OPERATOR_VARS:
        monkeypatch.delenv(name, raising=False)
    mod.unload_models()
    yield
    mod.unload_models()


class _Fake:
    """Stands in for SentenceTransformer: records what it was asked to load."""

    calls: list[tuple[str, dict[str, Any]]] = []

    def __init__(self, source: str, **kwargs: Any) -> None:
        _Fake.calls.append((source, kwargs))
        self.source = source


@pytest.fixture()
def fake_st(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    import sentence_transformers

    _Fake.calls = []
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", _Fake)
    return _Fake.calls


def _model_folder(folder: Path, *, types: list[str] | None = None, weights: int = 100) -> Path:
    """A folder that looks like a sentence-transformers model (no real weights)."""
    folder.mkdir(parents=True)
    types = types or [
        "sentence_transformers.models.Transformer",
        "sentence_transformers.models.Pooling",
    ]
    modules = [{"idx": i, "name": str(i), "path": "", "type": t} for i, t in enumerate(types)]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (folder / "model.safetensors").write_bytes(b"\0" * weights)
    return folder


@pytest.fixture()
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """root/good (a model), root/plain (no model), root/link -> outside, outside/m (a model)."""
    root = tmp_path / "root"
    good = _model_folder(root / "good")
    (root / "plain").mkdir()
    outside = _model_folder(tmp_path / "outside" / "m")
    (root / "link").symlink_to(outside, target_is_directory=True)
    monkeypatch.setenv("EXPLORER_MODELS_ROOT", str(root))
    return {"root": root, "good": good, "outside": outside}


def _refusal(spec: str) -> str:
    with pytest.raises(ModelError) as info:
        check_model_allowed(spec)
    return str(info.value)


# --- the allow-list ------------------------------------------------------------------


def test_a_hub_id_the_operator_did_not_list_is_refused(
    fake_st: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError) as info:
        load_model("someone/huge-7b-model")
    message = str(info.value)
    assert "not allowed on this server" in message and "EXPLORER_MODELS" in message
    assert str(tmp_path) not in message and os.sep + "work" not in message
    assert fake_st == []  # nothing was downloaded or loaded
    assert allowed_models() == [DEFAULT_MODEL] and models_root() is None
    assert local_model_choices() == []


def test_a_listed_hub_id_passes_and_loads_only_from_this_machine(
    fake_st: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    cached = _model_folder(tmp_path / "hf-cache-copy")
    asked: list[dict[str, Any]] = []

    def snapshot(repo: str, **kwargs: Any) -> str:
        asked.append(dict(kwargs, repo=repo))
        return str(cached)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot)
    monkeypatch.setenv("EXPLORER_MODELS", " org/tiny-model , bad id!, other/model")
    assert allowed_models() == [DEFAULT_MODEL, "org/tiny-model", "other/model"]
    check_model_allowed("org/tiny-model")
    assert resolve_model("org/tiny-model").kind == "hub"
    model = load_model("org/tiny-model")
    assert isinstance(model, _Fake)
    # Without EXPLORER_ALLOW_HUB the cached copy is checked and loaded, never downloaded.
    assert asked == [{"repo": "org/tiny-model", "cache_dir": None, "local_files_only": True}]
    source, kwargs = fake_st[0]
    assert source == str(cached) and kwargs["local_files_only"] is True
    assert kwargs["trust_remote_code"] is False


def test_a_hub_model_not_on_this_machine_says_how_to_allow_downloads(
    fake_st: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    def not_cached(repo: str, **kwargs: Any) -> str:
        raise FileNotFoundError(f"/root/.cache/huggingface/hub/models--{repo}")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", not_cached)
    monkeypatch.setenv("EXPLORER_MODELS", "org/absent")
    with pytest.raises(ModelError, match="EXPLORER_ALLOW_HUB=1") as info:
        load_model("org/absent")
    assert "/root" not in str(info.value) and fake_st == []


def test_an_oversized_hub_model_is_refused_before_downloading(
    fake_st: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub
    from huggingface_hub.hf_api import RepoSibling

    class Info:
        siblings = [
            RepoSibling("model-00001-of-00002.safetensors", size=15 << 30),
            RepoSibling("model-00002-of-00002.safetensors", size=13 << 30),
            RepoSibling("onnx/model.onnx", size=28 << 30),
        ]

    def no_download(repo: str, **kwargs: Any) -> str:
        raise AssertionError("downloaded a model over the size limit")

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", lambda self, repo, **k: Info())
    monkeypatch.setattr(huggingface_hub, "snapshot_download", no_download)
    monkeypatch.setenv("EXPLORER_MODELS", "org/big-7b")
    monkeypatch.setenv("EXPLORER_ALLOW_HUB", "1")
    with pytest.raises(ModelError, match="EXPLORER_MAX_MODEL_BYTES") as info:
        load_model("org/big-7b")
    assert f"{28 << 30:,}" in str(info.value)  # the weights, not the ONNX copy
    assert fake_st == []


def test_local_folders_load_only_from_under_the_operators_root(
    fake_st: list[Any], layout: dict[str, Path]
) -> None:
    assert models_root() == layout["root"].resolve()
    assert local_model_choices() == ["good"]  # not the plain folder, not the link out
    info = resolve_model("good")
    assert info.kind == "local" and info.location == str(layout["good"].resolve())
    assert info.label == "Local model good"
    load_model("good")
    assert fake_st[0][0] == str(layout["good"].resolve())
    missing = _refusal(str(layout["root"].parent / "no-such-folder"))
    outside = _refusal(str(layout["outside"]))  # exists, and is a model
    assert outside == missing  # whether a path exists is not revealed
    assert "EXPLORER_MODELS_ROOT" in outside and str(layout["root"].parent) not in outside
    assert _refusal("plain") == _refusal("no-such-name").replace("'no-such-name'", "'plain'")
    assert _refusal("/etc") == missing


def test_dot_dot_and_symlinks_do_not_lead_out_of_the_root(
    fake_st: list[Any], layout: dict[str, Path]
) -> None:
    missing = _refusal("../outside/nothing-here")
    assert _refusal("../outside/m") == missing
    assert _refusal("good/../../outside/m") == missing
    assert _refusal("link") == _refusal("link2").replace("'link2'", "'link'")
    with pytest.raises(ModelError):
        load_model("link")
    assert "/" not in missing.replace("EXPLORER_MODELS_ROOT", "")  # no path in it
    assert fake_st == []


def test_trusted_calls_accept_any_folder_and_only_where_asked(
    fake_st: list[Any], layout: dict[str, Path]
) -> None:
    outside = str(layout["outside"])
    assert resolve_model(outside, trusted=True).kind == "local"
    load_model(outside, trusted=True)
    with trusted_models():
        check_model_allowed(outside)
        seen: list[BaseException] = []

        def other_session() -> None:  # another thread: not trusted
            try:
                check_model_allowed(outside)
            except ModelError as exc:
                seen.append(exc)

        t = threading.Thread(target=other_session)
        t.start()
        t.join()
        assert len(seen) == 1
    with pytest.raises(ModelError, match="not allowed on this server"):
        check_model_allowed(outside)


# --- checks before loading -----------------------------------------------------------


def test_a_folder_over_the_size_limit_is_refused(
    fake_st: list[Any], layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _model_folder(layout["root"] / "big", weights=5000)
    monkeypatch.setenv("EXPLORER_MAX_MODEL_BYTES", "4000")
    with pytest.raises(ModelError, match="EXPLORER_MAX_MODEL_BYTES") as info:
        load_model("big")
    assert str(layout["root"]) not in str(info.value)
    assert fake_st == []
    load_model("good")  # small enough
    assert len(fake_st) == 1


@pytest.mark.parametrize("bad", ["os.system", "evil_pkg.modeling.Evil", "transformers.AutoModel"])
def test_modules_json_may_name_only_sentence_transformers_modules(
    fake_st: list[Any], layout: dict[str, Path], bad: str
) -> None:
    _model_folder(layout["root"] / "sly", types=["sentence_transformers.models.Transformer", bad])
    with pytest.raises(ModelError, match="modules.json names a module outside"):
        load_model("sly")
    assert fake_st == []


def _remote_code_folder(folder: Path, marker: Path) -> Path:
    """A model whose config asks for its own modeling code, which would leave `marker`."""
    _model_folder(folder)
    (folder / "config.json").write_text(
        json.dumps(
            {
                "model_type": "evil",
                "auto_map": {
                    "AutoConfig": "modeling_evil.EvilConfig",
                    "AutoModel": "modeling_evil.EvilModel",
                },
            }
        )
    )
    (folder / "modeling_evil.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "from transformers import PretrainedConfig, PreTrainedModel\n"
        "class EvilConfig(PretrainedConfig):\n    model_type = 'evil'\n"
        "class EvilModel(PreTrainedModel):\n    config_class = EvilConfig\n"
    )
    return folder


def test_a_model_asking_for_its_own_code_is_refused_and_never_runs_it(
    layout: dict[str, Path], tmp_path: Path
) -> None:
    marker = tmp_path / "remote-code-ran"
    folder = _remote_code_folder(layout["root"] / "custom", marker)
    with pytest.raises(ModelError, match="never runs a model's own code"):
        load_model("custom")
    # The loader itself, reached past our check, does not run it either.
    with pytest.raises(Exception):  # noqa: B017 - whichever error the loader raises
        mod._construct(str(folder), "fp32", {})
    assert not marker.exists()


def test_a_load_failure_does_not_show_the_server_path(
    layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sentence_transformers

    def broken(source: str, **kwargs: Any) -> None:
        raise OSError(f"cannot read {source}/model.safetensors")

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", broken)
    with pytest.raises(ModelError, match="Could not load model 'good'") as info:
        load_model("good")
    assert str(layout["root"]) not in str(info.value)
    with pytest.raises(ModelError, match="Could not load that model") as info:
        load_model(str(layout["good"]))  # a path inside the root: allowed, never echoed
    assert str(layout["root"]) not in str(info.value)


# --- models in memory ----------------------------------------------------------------


def test_at_most_n_models_stay_loaded_least_recently_used_going_first(
    fake_st: list[Any], layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = layout["root"]
    for name in ("a", "b", "c"):
        _model_folder(root / name)
    monkeypatch.setenv("EXPLORER_MAX_MODELS_LOADED", "2")

    def loaded() -> list[str]:
        return [Path(location).name for location, _ in mod._LOADED.keys()]

    first_a = load_model("a")
    load_model("b")
    assert load_model("a") is first_a  # in memory: not loaded again
    load_model("c")  # b was used least recently
    assert loaded() == ["a", "c"]
    load_model("b")
    assert loaded() == ["c", "b"]
    assert [Path(s).name for s, _ in fake_st] == ["a", "b", "c", "b"]


def test_sessions_loading_at_once_load_a_model_once(
    layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sentence_transformers

    started = threading.Barrier(8)
    built: list[int] = []

    class Slow:
        def __init__(self, source: str, **kwargs: Any) -> None:
            built.append(1)
            threading.Event().wait(0.2)

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", Slow)
    got: list[Any] = []

    def session() -> None:
        started.wait()
        got.append(load_model("good"))

    threads = [threading.Thread(target=session) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and len(got) == 8 and all(m is got[0] for m in got)


# --- the embedding cache -------------------------------------------------------------


def test_the_embedding_cache_stays_within_its_limit_oldest_going_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from explorer.ingest.embed_cache import EmbeddingCache

    cap = 64 * 1024
    monkeypatch.setenv("EXPLORER_EMBED_CACHE_BYTES", str(cap))
    cache = EmbeddingCache(tmp_path)
    rng = np.random.default_rng(0)
    batches = [[EmbeddingCache.key(f"text {b}-{i}") for i in range(10)] for b in range(30)]
    for keys in batches:  # 30 × 10 vectors of 1 KiB: about 5 times the limit
        cache.put("m", keys, rng.random((10, 256), dtype=np.float32), [True] * 10)
        with sqlite3.connect(cache.path) as con:
            page, count, free = (
                con.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("page_size", "page_count", "freelist_count")
            )
        assert (count - free) * page <= cap  # the pages in use
        assert cache.path.stat().st_size <= cap + 2 * page
    assert len(cache.get("m", batches[-1])) == 10  # the newest are kept
    assert cache.get("m", batches[0]) == {}  # the oldest went first
    with sqlite3.connect(cache.path) as con:  # their truncation flags went with them
        n_vec = con.execute("SELECT count(*) FROM vec").fetchone()[0]
        n_trunc = con.execute("SELECT count(*) FROM trunc").fetchone()[0]
    assert 20 <= n_vec == n_trunc < 300
