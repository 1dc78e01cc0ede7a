"""The node's background worker: a thread that runs rounds of work (the outbox, due checks)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)


class Worker:
    """Runs each round in turn, then sleeps for `interval` seconds or until woken."""

    def __init__(self, rounds: Sequence[Callable[[], object]], interval: float = 5.0) -> None:
        self._rounds = list(rounds)
        self._interval = interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trustbubble-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Run a round soon: something was just committed to the outbox."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the send in progress, if any, and end the thread."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            for round_ in self._rounds:
                if self._stopping.is_set():
                    return
                try:
                    round_()
                except Exception:
                    # A broken round (the database away for a moment) must not end the thread;
                    # the next round tries again.
                    log.exception("background round failed")
            self._wake.wait(self._interval)
