"""The core: what every other layer stands on, importing nothing else of ours.

``space`` (the validated Space), ``manifest`` (what a space folder holds, sealed and
checksummed), ``store`` (versioned folders, locks, atomic writes), ``steps`` (the stored
step skeleton), ``errors``, ``validate``, ``limits`` (the operator's bounds), ``safe_text``
(escaping user text), ``linalg`` and ``progress``.
"""

__all__ = [
    "errors",
    "limits",
    "linalg",
    "manifest",
    "progress",
    "safe_text",
    "space",
    "steps",
    "store",
    "validate",
]
