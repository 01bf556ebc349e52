"""Clusterings of a space: the algorithms, stored clusterings, their names
(``names``), the broad regions that merge nearby clusters (``levels``), and how well
a clustering agrees with known labels (``agreement``).
"""

__all__ = [
    "agreement",
    "algorithms",
    "clusterings",
    "levels",
    "names",
]
