"""Clusterings of a space: the algorithms, stored clusterings, their names
(``names``) and the broad regions that merge nearby clusters (``levels``).
"""

__all__ = [
    "algorithms",
    "clusterings",
    "levels",
    "names",
]
