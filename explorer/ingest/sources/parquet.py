"""Parquet, read by batch with its decoded size bounded.

A few KB of Parquet can decode to gigabytes (runs of one value, one long string repeated
through a dictionary). Before decoding, the footer's sizes and value counts of the row
groups to be read give a lower bound on what they decode to; while reading, text columns
arrive dictionary-encoded, so their full size is counted before they are expanded, and
every batch is counted. Past ``max_decoded_bytes`` the read stops with a message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from explorer.core.errors import InputError
from explorer.ingest.sources.bounds import check_decoded, error_text

__all__ = ["read_parquet"]

_BATCH_ROWS = 4096
# Bytes each value of a Parquet physical type decodes to at least (texts: their offsets).
_WIDTH = {
    "BOOLEAN": 1,
    "INT32": 4,
    "FLOAT": 4,
    "INT64": 8,
    "DOUBLE": 8,
    "INT96": 12,
    "BYTE_ARRAY": 4,
}


def read_parquet(p: Path, cap: int) -> pd.DataFrame:
    """The first `cap` rows of a Parquet file as pandas reads them, decoded size bounded."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.ParquetFile(p).schema_arrow
        texts = [
            f.name
            for f in schema
            if pa.types.is_string(f.type)
            or pa.types.is_large_string(f.type)
            or pa.types.is_binary(f.type)
            or pa.types.is_large_binary(f.type)
        ]
        pf = pq.ParquetFile(p, read_dictionary=texts)
        check_decoded(_footer_bound(pf.metadata, cap), p.name)
        batches = _batches(pf, schema, cap, p.name)
        return pa.Table.from_batches(batches, schema=schema).to_pandas()
    except InputError:
        raise
    except (pa.ArrowException, ValueError, OSError, TypeError, KeyError) as exc:
        raise InputError(f"Could not read '{p.name}' as Parquet ({error_text(exc, p)}).") from None


def _footer_bound(meta: Any, cap: int) -> int:
    """At least the bytes that the row groups holding the first `cap` rows decode to.

    Each column chunk decodes to no less than its uncompressed size, nor than its count of
    values times the width of its type (runs of one value compress to almost nothing); of
    the last row group only the share of rows read is counted.
    """
    total = 0.0
    rows = 0
    for i in range(meta.num_row_groups):
        if rows >= cap:
            break
        group = meta.row_group(i)
        share = min(1.0, (cap - rows) / max(group.num_rows, 1))  # of the last group: the part read
        rows += group.num_rows
        for j in range(group.num_columns):
            col = group.column(j)
            width = _WIDTH.get(col.physical_type, 1)
            total += share * max(col.total_uncompressed_size, col.num_values * width)
    return int(total)


def _batches(pf: Any, schema: Any, cap: int, name: str) -> list[Any]:
    """Batches of the first `cap` rows, text columns expanded, in `schema`'s types.

    Each batch's size is counted before its dictionary-encoded text is expanded, so a short
    file of one long string repeated stops at the limit instead of filling memory.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    out: list[Any] = []
    rows = decoded = 0
    for batch in pf.iter_batches(batch_size=min(cap, _BATCH_ROWS)):
        batch = batch.slice(0, cap - rows)
        columns = []
        for k, field in enumerate(schema):
            col = batch.column(k)
            if pa.types.is_dictionary(col.type) and not pa.types.is_dictionary(field.type):
                lengths = pc.binary_length(col.dictionary).take(col.indices)
                decoded += int(pc.sum(lengths).as_py() or 0) + 8 * len(col)
                check_decoded(decoded, name, so_far=True)
                col = col.dictionary_decode().cast(field.type)
            else:
                decoded += col.nbytes
            columns.append(col)
        check_decoded(decoded, name, so_far=True)
        out.append(pa.RecordBatch.from_arrays(columns, schema=schema))
        rows += batch.num_rows
        if rows >= cap:
            break
    return out
