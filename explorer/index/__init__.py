"""Nearest-neighbour search over a space: the hnswlib wrapper with its exact fallback
(``hnsw``), the check of a saved hnswlib file before hnswlib reads it (``file_check``),
the k-NN graphs that maps, clusterings and map quality share (``knn``), and the index's
recall against exact search (``recall``).
"""

__all__ = [
    "file_check",
    "hnsw",
    "knn",
    "recall",
]
