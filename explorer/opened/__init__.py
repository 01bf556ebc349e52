"""The opened space: one handle per version of a saved space (``handle``), and the
skeleton of a stored step that every map, clustering and quality figure goes through
(``steps``). Everything above this layer takes a handle, never a folder string.
"""

__all__ = ["handle", "steps"]
