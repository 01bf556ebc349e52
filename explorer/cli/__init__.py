"""``python -m explorer``: the commands, one module per family (``main`` holds the
parser and the core commands; ``common`` what the others share).
"""

__all__ = [
    "common",
    "compare",
    "export",
    "main",
    "map_flags",
    "retrieval",
    "train",
    "zeroshot",
]
