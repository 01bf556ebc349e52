"""Resource limits an operator can set, each named in the message that enforces it.

Every limit has a default that suits a shared 2-core server and an environment
variable that overrides it (``EXPLORER_MAX_ROWS=2000000``). Read them with
:func:`limits`; a message that enforces one names the variable, so an operator
knows what to raise and a user knows what to shrink.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from explorer.core.errors import InputError

__all__ = ["Limits", "env_name", "limits", "over_limit"]

_MB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what one request may read, decode, compute or keep.

    Attributes (units in the names; the variable is EXPLORER_ + the upper-cased name):
        max_file_bytes: bytes of one uploaded or read file.
        max_decoded_bytes: bytes a compressed file (Parquet, npz, zip) may decode to.
        max_rows: rows parsed from one file (a "first N rows" read stops at N).
        max_text_chars: characters kept of one text (longer texts are cut, with a note).
        preview_rows: rows a preview parses.
        max_tsne_rows, max_umap_rows, max_hdbscan_rows: points one map or
            clustering may have (t-SNE is O(n log n) with a large constant).
        max_umap_point_epochs: UMAP's points × epochs in one map (its epochs' work);
            the default is twice that of the largest map the defaults allow.
        max_word_vector_cells: words × dimensions of one Word2Vec training (its
            vocabulary keeps the most frequent words that fit).
        max_models_loaded: embedding models kept in memory at once.
        max_model_bytes: size on disk of a model folder that may be loaded.
        embed_cache_bytes: size on disk of the embedding cache (oldest entries go first).
        max_ef: the largest hnswlib search breadth a query may ask for.
        workers: worker processes for heavy work (embedding, maps, clusterings) in
            the app; jobs beyond them wait in a queue. A session runs one job at a
            time, so with two, no single session can hold up everyone else's work.
        max_job_seconds: how long one job may run before it is stopped.
        max_decode_seconds: seconds reading one image collection may spend decoding.
        max_image_epochs: images × epochs of one SimCLR or CLIP training.
    """

    max_file_bytes: int = 500 * _MB
    max_decoded_bytes: int = 2048 * _MB
    max_rows: int = 2_000_000
    max_text_chars: int = 20_000
    preview_rows: int = 20
    max_tsne_rows: int = 50_000
    max_umap_rows: int = 1_000_000
    max_hdbscan_rows: int = 500_000
    max_umap_point_epochs: int = 400_000_000
    max_word_vector_cells: int = 50_000_000
    max_models_loaded: int = 2
    max_model_bytes: int = 2048 * _MB
    embed_cache_bytes: int = 2048 * _MB
    max_ef: int = 1024
    workers: int = 2
    max_job_seconds: int = 3600
    max_decode_seconds: int = 600
    max_image_epochs: int = 1_000_000


def env_name(field: str) -> str:
    """The environment variable that sets limit `field`."""
    return "EXPLORER_" + field.upper()


def limits() -> Limits:
    """The limits in force: defaults, overridden by EXPLORER_* environment variables.

    Raises:
        InputError: a variable that is not a positive whole number (named).
    """
    values: dict[str, int] = {}
    for f in fields(Limits):
        raw = os.environ.get(env_name(f.name))
        if raw is None or not raw.strip():
            continue
        try:
            value = int(raw.replace("_", ""))
        except ValueError:
            value = 0
        if value < 1:
            raise InputError(
                f"The operator setting {env_name(f.name)}={raw!r} is not a positive whole number."
            )
        values[f.name] = value
    return Limits(**values)


def over_limit(what: str, amount: int, field: str, advice: str) -> InputError:
    """An error for `what` exceeding limit `field`, naming the limit and what to do."""
    limit = getattr(limits(), field)
    return InputError(
        f"{what}: {amount:,}, over this server's limit of {limit:,} "
        f"(set by the operator as {env_name(field)}). {advice}"
    )
