"""Errors whose messages are written for the person using the tool."""

from __future__ import annotations

__all__ = ["ExplorerError", "InputError", "IncompleteSpaceError", "ModelError"]


class ExplorerError(Exception):
    """Base error: the message says what was wrong and what to do about it.

    The app and the command line show it as it is, never with a traceback.
    """


class InputError(ExplorerError, ValueError):
    """The user's data or parameters cannot be used as given."""


class IncompleteSpaceError(ExplorerError):
    """A space folder was left half-written (a crash or an interrupted build)."""


class ModelError(ExplorerError):
    """An embedding model could not be loaded or used."""
