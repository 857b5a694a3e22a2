"""Keep Python's full garbage collections off the worker's event loop.

A worker holding the states of 87 500 publics tracks about 8 million objects, and one full
collection walks all of them: 3.4 s on this machine class (``bench.national`` saw the longest
loop stall at 2.5–3.6 s with 175 000 publics on two workers), during which nothing is ingested,
committed or answered. Those objects are long-lived states that die by
reference count when a public is evicted or rewritten; they form no cycles (measured: evicting every
state frees it with the collector frozen, and a collection after unfreezing finds no cyclic garbage).

So every ``every_s`` the young generations are collected (cheap) and everything alive is moved to the
permanent generation (``gc.freeze``), which full collections skip. Objects frozen that later die
by reference count are freed as usual; only a reference cycle that becomes garbage after being frozen
is kept, which the worker's own objects do not form. (``gc.get_freeze_count()`` walks every frozen
object, 0.5 s at the national scale: it is for tests, never called by the worker.)
"""

from __future__ import annotations

import gc
import logging
from typing import Any, Final

log = logging.getLogger(__name__)

#: Seconds between freezes.
EVERY_S: Final = 30.0


def freeze_survivors() -> None:
    """Collect the young generations, then freeze what survives."""
    gc.collect(1)
    gc.freeze()


def register(app: Any, every_s: float = EVERY_S) -> None:
    @app.timer(every_s)
    async def freeze_long_lived() -> None:
        freeze_survivors()
