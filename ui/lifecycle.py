"""The app's lifecycle, in one place: operator settings and the start-up warm-up.

Settings come from the operator (environment variables), never from a browser.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from explorer.maps.umap import warm_up

__all__ = ["PROJECT_ROOT", "default_space_name", "spaces_root", "start_warm_up"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# One warm-up per server process (this module is imported once per process; the
# app script itself re-runs on every interaction, so the flag cannot live there).
_warm_lock = threading.Lock()
_warm_started = False


def spaces_root() -> Path:
    """Where spaces are saved and found: $EXPLORER_SPACES, else ``spaces/`` in the project."""
    return Path(os.environ.get("EXPLORER_SPACES", PROJECT_ROOT / "spaces")).expanduser()


def default_space_name(fallback: str) -> str:
    """The space opened on first visit: $EXPLORER_DEFAULT_SPACE, else `fallback`."""
    return os.environ.get("EXPLORER_DEFAULT_SPACE", fallback)


def start_warm_up() -> None:
    """Compile (or load) UMAP's numba code in a daemon thread, once per process."""
    global _warm_started
    with _warm_lock:
        if _warm_started:
            return
        _warm_started = True
    threading.Thread(target=warm_up, name="numba-warm-up", daemon=True).start()
