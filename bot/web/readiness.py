"""Readiness: can this replica answer? (its index and its state database both answer).

`/healthz` says the process is alive; `/readyz` runs these checks, so a load balancer stops
sending Slack's requests to a replica whose Chroma or database is unreachable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as CheckTimedOut

log = logging.getLogger(__name__)


class Readiness:
    def __init__(self, checks: Mapping[str, Callable[[], object]], timeout_s: float = 3.0):
        self.checks = dict(checks)
        self.timeout_s = timeout_s
        # A hung dependency must not hang the probe: each check runs with a deadline.
        self._pool = ThreadPoolExecutor(max_workers=max(2, len(self.checks)), thread_name_prefix="readiness")

    def __call__(self) -> tuple[bool, dict[str, str]]:
        """(ready, each check's outcome: "ok", "unreachable" or "timed out")."""
        running = {name: self._pool.submit(check) for name, check in self.checks.items()}
        outcomes = {}
        for name, future in running.items():
            try:
                future.result(timeout=self.timeout_s)
                outcomes[name] = "ok"
            except CheckTimedOut:
                outcomes[name] = "timed out"
                log.warning("readiness: %s did not answer within %.1f s", name, self.timeout_s)
            except Exception as exc:  # any failure means not ready; the type is enough (messages may hold URLs)
                outcomes[name] = "unreachable"
                log.warning("readiness: %s unreachable (%s)", name, type(exc).__name__)
        return all(v == "ok" for v in outcomes.values()), outcomes


def replica_readiness(library, state) -> Readiness:
    """The checks a serving replica needs: the Chroma index and the state database."""
    return Readiness({"index": lambda: library.store.count_chunks(), "database": state.ping})
