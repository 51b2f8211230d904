"""One writer at a time on an embedded index: an inter-process lock file in the data directory.

Embedded Chroma (a ``PersistentClient``) is not safe for two processes writing at once, so every
write — `paperbot ingest`, a paper added from Slack — holds ``index.lock`` in the data directory.
It is an OS file lock (flock, through filelock): the kernel releases it when its holder exits,
even by kill -9, so a dead writer never blocks the next one. Beside it, ``index.lock.json`` says
who holds it (pid, command, since) so that a waiting writer can say whom it waits for; a record
whose process is gone is stale and is never reported as the holder. Threads of one process
exclude each other too (the lock is per thread), and a thread holding it may take it again.
Readers never take it. A Chroma server orders its writers itself: no lock then (see ``Library``).
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout
from ..errors import IndexBusy

LOCK_NAME = "index.lock"
HOLDER_NAME = "index.lock.json"


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    command: str
    since: datetime

    def describe(self) -> str:
        since = self.since.astimezone()
        when = since.strftime("%H:%M:%S" if since.date() == datetime.now().astimezone().date() else "%Y-%m-%d %H:%M:%S")
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"held by pid {self.pid}{where} ({self.command}) since {when}"

    def alive(self) -> bool:
        if self.host != socket.gethostname():
            return True  # another machine's process cannot be checked from here: trust its record
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # it exists, under another user
        return True


class WriterLock:
    def __init__(self, directory: Path, command: str):
        self.directory = directory
        self.command = command  # names this process to the writers that wait for it
        # One instance per path in a process, so two Library objects in one thread share the hold.
        self._lock = FileLock(directory / LOCK_NAME, is_singleton=True)
        self._holder_path = directory / HOLDER_NAME

    @property
    def held_here(self) -> bool:
        """Whether this thread holds the lock already (a nested write needs nothing more)."""
        return self._lock.is_locked

    def holder(self) -> Holder | None:
        """Who holds the lock by its record, or None if there is no record or its process is gone."""
        try:
            raw = json.loads(self._holder_path.read_text())
            holder = Holder(int(raw["pid"]), str(raw["host"]), str(raw["command"]), datetime.fromisoformat(raw["since"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none, or half written by a holder that was killed: nothing to report
        return holder if holder.alive() else None

    def describe_holder(self) -> str:
        holder = self.holder()
        return holder.describe() if holder else "held by another writer (it left no record of which)"

    def acquire(self, *, timeout_s: float | None = None, on_wait: Callable[[str], object] | None = None) -> None:
        """Take the lock. While another writer holds it, tell ``on_wait`` once whom this waits for and
        wait: as long as it takes (None), or at most ``timeout_s`` seconds (0: not at all), then IndexBusy.
        OSError when the lock file cannot be created (a read-only or full data directory)."""
        nested = self.held_here
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            if timeout_s is not None and timeout_s <= 0:
                raise IndexBusy(self.describe_holder()) from None
            if on_wait is not None:
                on_wait(f"waiting for the index: {self.describe_holder()}")
            try:
                self._lock.acquire(timeout=-1 if timeout_s is None else timeout_s)
            except Timeout:
                raise IndexBusy(self.describe_holder()) from None
        if nested:
            return
        try:
            self._record()
        except OSError:
            self._lock.release()
            raise

    def release(self) -> None:
        if self._lock.lock_counter == 1:
            # The record goes first: once the lock is free the next holder writes its own.
            self._holder_path.unlink(missing_ok=True)
        self._lock.release()

    def _record(self) -> None:
        record = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                  "since": datetime.now().astimezone().isoformat(timespec="seconds")}
        with tempfile.NamedTemporaryFile("w", dir=self.directory, prefix=".index.lock-", suffix=".tmp",
                                         delete=False) as stream:
            json.dump(record, stream)
        os.replace(stream.name, self._holder_path)  # a waiter never reads half a record
