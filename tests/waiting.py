"""Waiting in tests for something another thread or process does, never for ever."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(
    condition: Callable[[], object], what: str, *, within: float = 30.0, every: float = 0.05
) -> None:
    """Poll ``condition`` until it holds (the bound only stops a broken test hanging)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(every)
