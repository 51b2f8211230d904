"""One deadline per answer: whatever the language model does, the answer is ready in time.

HTTP timeouts apply per attempt and per read, so a server that trickles bytes, or retries after
retries, can hold a caller far past any timeout. :meth:`Deadline.run` runs the slow work in a
worker thread and stops waiting when the deadline passes; the worker sees :attr:`Deadline.expired`
between pieces and stops too.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


class DeadlineExceeded(TimeoutError):
    """The deadline passed before the work finished."""


class Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self._expires_at = time.monotonic() + seconds
        self._cancelled = threading.Event()

    def remaining(self) -> float:
        return 0.0 if self._cancelled.is_set() else max(0.0, self._expires_at - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def check(self) -> None:
        if self.expired:
            raise DeadlineExceeded(f"the {self.seconds:g} s deadline passed")

    def cancel(self) -> None:
        """Expire now: work still running for this deadline stops at its next check."""
        self._cancelled.set()

    def sleep(self, seconds: float) -> None:
        """Sleep, but never past the deadline (then raise)."""
        if seconds >= self.remaining():
            self._cancelled.wait(self.remaining())
            self.check()
        self._cancelled.wait(seconds)
        self.check()

    def run(self, produce: Callable[[], Iterator[T]]) -> Iterator[T]:
        """Yield what ``produce()`` yields, produced in a worker thread; raise DeadlineExceeded in time.

        Exceptions of the work are re-raised here. When the caller stops early (the deadline, or
        closing this generator), the deadline is cancelled so the worker stops at its next check.
        """
        items: queue.Queue = queue.Queue()

        def work() -> None:
            try:
                for item in produce():
                    items.put((item, None))
                    if self.expired:
                        break
            except BaseException as exc:  # handed to the waiting caller, who raises it
                items.put((_DONE, exc))
                return
            items.put((_DONE, None))

        threading.Thread(target=work, name="deadline-worker", daemon=True).start()
        finished = False
        try:
            while True:
                try:
                    item, error = items.get(timeout=self.remaining())
                except queue.Empty:
                    raise DeadlineExceeded(f"the {self.seconds:g} s deadline passed") from None
                if self.expired and error is None and item is not _DONE:
                    # Made after the deadline (on a busy machine this thread may wake late): not used.
                    raise DeadlineExceeded(f"the {self.seconds:g} s deadline passed")
                if error is not None:
                    raise error
                if item is _DONE:
                    finished = True
                    return
                yield item
        finally:
            if not finished:
                self.cancel()
