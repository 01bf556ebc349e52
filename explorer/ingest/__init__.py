"""Getting data in: reading user files (``sources``, ``images``), models and embedding
(``models``, ``embed``, ``embed_cache``, ``embed_images``), building and saving spaces
(``build``, ``image_space``, ``thumbs``), the built-in samples and data sets (``samples``,
``datasets``), and free text turned into a query (``query``).
"""

__all__ = [
    "build",
    "datasets",
    "embed",
    "embed_cache",
    "embed_images",
    "image_space",
    "images",
    "models",
    "query",
    "samples",
    "sources",
    "thumbs",
]
