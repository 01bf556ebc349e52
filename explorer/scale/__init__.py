"""Big builds on Ray: actor-pool embedding and sharded k-NN (``build``), and maps
fitted on a sample and placed for the rest (``maps``).
"""

__all__ = [
    "build",
    "maps",
]
