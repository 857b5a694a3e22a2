"""A worker that stops within a bounded time of SIGTERM or SIGINT, in every run.

Faust stops its services one by one; a service waiting on a broker or on a task that never ends can
hold the stop forever (seen as a worker stuck after ``Wait for streams...``). An orchestrator would
then kill it after its own grace period, at a moment of its choosing. Here the worker sets its own
bound: once a stop signal arrives, a watchdog thread exits the process after ``stop_timeout_s`` if
the clean stop has not finished. Exiting that way is as safe as a crash: nothing after the last
commit is lost, it is delivered again and dedup absorbs what was already applied.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Any, Final

import faust

log = logging.getLogger(__name__)

#: Exit status when the clean stop overran its bound.
EXIT_STOP_FORCED: Final = 1


class BoundedStopWorker(faust.Worker):
    def __init__(self, *args: Any, stop_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stop_timeout_s = stop_timeout_s
        self._watchdog: threading.Timer | None = None

    def _schedule_shutdown(self, signum: signal.Signals) -> None:
        if self._watchdog is None:
            self._watchdog = threading.Timer(self.stop_timeout_s, self._force_exit, args=(signum,))
            self._watchdog.daemon = True
            self._watchdog.start()
        super()._schedule_shutdown(signum)

    def _force_exit(self, signum: signal.Signals) -> None:
        message = (
            f"gospulse worker: still stopping {self.stop_timeout_s:.0f} s after {signum.name}; exiting now "
            "(events after the last commit are delivered again on restart, and dedup absorbs them)"
        )
        log.error(message)
        print(message, file=sys.stderr, flush=True)
        os._exit(EXIT_STOP_FORCED)
