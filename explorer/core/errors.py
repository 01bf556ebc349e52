"""Errors whose messages are written for the person using the tool."""

from __future__ import annotations

import logging

__all__ = ["ExplorerError", "InputError", "IncompleteSpaceError", "ModelError", "user_message"]

_log = logging.getLogger("explorer")


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


def user_message(exc: BaseException, action: str = "That") -> str:
    """The one sentence a person sees for `exc`, in the app and on the command line.

    An ExplorerError's own message is written for the user. Anything else is
    unforeseen: its text may name server paths or internals, so it is logged for
    the operator and the user gets what happened and what to do, never the text.
    """
    if isinstance(exc, ExplorerError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return (
            f"{action} needs more memory than this machine has. Try a smaller space or fewer rows."
        )
    _log.error("%s failed", action, exc_info=exc)
    return (
        f"{action} failed unexpectedly ({type(exc).__name__}). Your data is unchanged; "
        "try other settings, or reopen the space. The details are in the server's log."
    )
