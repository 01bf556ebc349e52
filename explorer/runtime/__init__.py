"""Heavy work off the app's threads: the queue of worker processes (``jobs``) and
the tasks they run (``tasks``).
"""

__all__ = [
    "jobs",
    "tasks",
]
