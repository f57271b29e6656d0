"""The cyclic garbage collector, paused for the length of one bulk decode.

Decoding a long history makes one event per line, and every event is kept: the collector's
automatic passes walk all of them again and again while more are made (a full pass each time
the long-lived objects grow by a quarter), a third of what decoding costs.  The objects a
decode makes hold no reference cycles (frozen events of strings, datetimes, enum members and
tuples, and the parsed dicts, dropped at once), so pausing the collector while it runs frees
nothing later than it would have been freed: reference counting frees everything the decode
drops, at once, as it always does.

The collector's switch is one for the whole process, so the pause is counted: the first call
to pause it notes whether it was on, and the last one to end turns it back on only if it was
-- a nested or concurrent decode (another thread) neither ends the pause early nor leaves the
collector off, and a program that turned it off itself keeps it off.  While a decode runs,
other threads get no automatic collection either; garbage cycles they make wait for the end of
the pause (or for an explicit :func:`gc.collect`, which still works).  A program that turns the
collector off from another thread *during* a decode sees it turned back on when the decode ends.

A bulk read or replay (:data:`BULK` events or more) ends by *promoting*: every object the
collector tracks goes to its oldest generation without a pass (:func:`gc.freeze` then
:func:`gc.unfreeze`, which the documentation defines as putting the objects back into the
oldest generation).  Without it, the events just made are young, and the collector's next two
passes walk every one of them again to age them -- a million events cost two passes of a
quarter of a second each, more than a third of the decode -- only to find what promotion knows
already: they are alive and hold no cycle.  The full passes still walk them, as they walk every
long-lived object.  What else was young at that moment is promoted with them: a garbage cycle
among it is freed by the next full pass instead of the next young one.  A program that froze
objects itself (``gc.get_freeze_count()`` above zero) or turned the collector off gets no
promotion: unfreezing would thaw what it froze.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["BULK", "bulk", "paused", "promote"]

BULK = 10_000
"""How many events make a bulk: a read or replay of at least this many ends by promoting."""

_FREEZING = all(hasattr(gc, name) for name in ("freeze", "unfreeze", "get_freeze_count"))
"""Whether this Python's collector can freeze (CPython can; other implementations may not)."""

_lock = threading.Lock()
_depth = 0  # how many pauses are under way, in every thread
_resume = False  # whether the first of them found the collector on


@contextmanager
def paused() -> Iterator[None]:
    """No automatic collection inside the block; the collector as it was after the last one."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()


@contextmanager
def bulk() -> Iterator[None]:
    """A pause (see :func:`paused`) for a bulk: when the block ends without an error, promote."""
    with paused():
        yield
        promote()


def promote() -> bool:
    """Every tracked object to the oldest generation, without a pass; False when not done.

    Not done when the collector is off for the program (off before the pauses under way began,
    or off with none under way), when the program froze objects itself, or on a Python whose
    collector cannot freeze.
    """
    if not _FREEZING:
        return False
    with _lock:
        on = _resume if _depth else gc.isenabled()
        if not on or gc.get_freeze_count():
            return False
        gc.freeze()
        gc.unfreeze()
        return True
