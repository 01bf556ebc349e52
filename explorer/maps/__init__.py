"""Maps of a space: the projections and their stored steps (``projections``), UMAP's
fit (``umap``) and its parallel epochs (``epochs``), semantic axes (``axes``), and how
faithful a map is (``quality``).
"""

__all__ = [
    "axes",
    "epochs",
    "projections",
    "quality",
    "umap",
]
