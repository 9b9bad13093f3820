"""The response cache's clock: one place to read the time, so tests can move it."""

import time


def now() -> float:
    """The current Unix time in seconds."""
    return time.time()
