"""Views you can send and tours you can present: what a screen shows, as plain,
validated data (``views``).
"""

__all__ = [
    "views",
]
