"""An answer written by a language model: under one deadline, with every claim checked.

The model writes from the numbered passages, then each of its sentences is checked against the
passages it cites (`retrieval.llm.claims`). All of it runs in one worker under the answer's
:class:`~paperbot.retrieval.llm.deadline.Deadline`; whatever goes wrong (the deadline, the server,
an unreadable or echoed reply, a bug in a client library) ends as :class:`AnswererUnavailable`
with the one-line note users see above the extractive answer. Only progress comes out while it
works, never the model's unchecked text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ...prompts import is_cannot_answer, without_sentinel
from .answerers.base import AnswererUnavailable, ClaimChecker, Evidence, written
from .claims import check_claims, statements
from .deadline import Deadline, DeadlineExceeded
from .notes import FAILED_NOTE, deadline_note
from ..types import Progress, Turn

log = logging.getLogger(__name__)


@dataclass
class Checked:
    """What the model wrote, after its claims were checked."""

    text: str = ""  # the supported sentences, with the markers that passed
    quotes: dict[int, list[str]] = field(default_factory=dict)  # evidence number -> supporting quotes
    abstained: bool = False
    reason: str = ""  # what the model said after the cannot-answer sentinel, if anything
    cited: int = 0  # sentences that cited a passage
    dropped: int = 0  # sentences left out because no passage they cite states them


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def reading(evidence: Sequence[Evidence]) -> Progress:
    papers = len({item.paper.id for item in evidence})
    return Progress("read", f"Reading {_plural(papers, 'summary', 'summaries')}")


def _write_and_check(answerer: ClaimChecker, question: str, evidence: Sequence[Evidence],
                     history: Sequence[Turn], deadline: Deadline) -> Iterator[Progress | Checked]:
    reply = written(answerer, question, evidence, history, deadline=deadline)
    if is_cannot_answer(reply):
        yield Checked(abstained=True, reason=without_sentinel(reply))
        return
    cited = sum(1 for s in statements(reply)[0] if s.markers)
    if cited:
        yield Progress("check", f"Checking {_plural(cited, 'statement', 'statements')} against the summaries")
    result = check_claims(reply, evidence, answerer.supporting_quote, deadline)
    yield Checked(text=result.text, quotes=result.quotes, cited=result.checked, dropped=result.dropped)


def model_answer(answerer: ClaimChecker, question: str, evidence: Sequence[Evidence], history: Sequence[Turn],
                 deadline: Deadline) -> Iterator[Progress | Checked]:
    """Progress, then the :class:`Checked` answer; raises AnswererUnavailable (with its note) instead."""
    yield reading(evidence)
    try:
        yield from deadline.run(lambda: _write_and_check(answerer, question, evidence, history, deadline))
    except AnswererUnavailable:
        raise
    except DeadlineExceeded as exc:
        raise AnswererUnavailable(deadline_note(deadline.seconds), cause=exc) from exc
    except Exception as exc:  # a client library's bug must not cost the user the extractive answer
        log.exception("the language model's answer failed unexpectedly")
        raise AnswererUnavailable(FAILED_NOTE, cause=exc) from exc
