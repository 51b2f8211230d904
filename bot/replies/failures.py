"""When a Slack surface's work fails: a short apology that says what to do, the cause in the log.

Every slash-command, button and form path runs its slow part inside `apologising`, so a failure
(Chroma down, an LLM error, a Web API error) never leaves "Looking through the papers…" as the
last word.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


def apology(doing: str, next_step: str = "Please try again in a minute.") -> str:
    return f"Sorry, I couldn't {doing} just now: something went wrong on my side. {next_step}"


@contextmanager
def apologising(send: Callable[[str], object], text: str) -> Iterator[None]:
    """Run the block; if it raises, log why and ``send`` the apology ``text`` instead."""
    try:
        yield
    except Exception:
        log.exception("failed; apologising: %s", text)
        try:
            send(text)
        except Exception:
            log.exception("the apology could not be sent either")
