"""What every answerer gets and gives back.

An answerer writes the answer text from numbered evidence passages; it never makes citations.
`retrieval.answering.pipeline` turns the ``[n]`` markers it wrote into verified citations.

The contract is stream-only: :meth:`Answerer.stream` yields the text as it is written, and the
answer *is* the join of what it yielded (:func:`written`), so nothing can tell two stories.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ....config.errors import PaperbotError
from ...types import Paper, Turn

if TYPE_CHECKING:
    from ..deadline import Deadline


@dataclass(frozen=True)
class Evidence:
    """A retrieved passage offered to the answerer as ``[n]``."""

    n: int
    paper: Paper
    text: str  # verbatim chunk text
    score: float
    # How likely each sentence of the paper states the answer (the reader's probabilities), if known.
    sentence_scores: dict[str, float] | None = None
    # The reader's quote from this passage's paper (the answer, with the sentence before it when
    # it needs it), verbatim; set on the passage of the paper the question is about.
    quote: tuple[str, ...] = ()


@dataclass(frozen=True)
class Draft:
    """The answerer's text, with ``[n]`` markers that refer to ``Evidence.n``."""

    text: str
    abstained: bool = False


class AnswererUnavailable(PaperbotError, RuntimeError):
    """The answerer could not answer (timeout, rate limit, server error, bad key, unreadable reply …).

    ``user_note`` is one line safe to show users; the cause stays in the logs.
    """

    def __init__(self, user_note: str, *, cause: BaseException | None = None):
        super().__init__(user_note)
        self.user_note = user_note
        self.__cause__ = cause


class Answerer(Protocol):
    """Writes answers; declares what it can do, so callers never guess it from its name."""

    name: str
    streams_progress: bool  # slow enough (a language model) that the steps of answering are worth showing
    checks_claims: bool  # writes its own words: each sentence is checked against its passage (a ClaimChecker)
    judges_near_misses: bool  # reads the passages itself, so the fitted near-miss decision is not applied

    def stream(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn], *,
               deadline: "Deadline") -> Iterator[str]:
        """Yield the answer text as it is written; raise :class:`AnswererUnavailable` when it can't.

        Stop early (raising ``DeadlineExceeded``) once ``deadline`` has passed.
        """
        ...


@runtime_checkable
class ClaimChecker(Answerer, Protocol):
    """An answerer whose sentences are its own words: each must be checked against its passage."""

    def supporting_quote(self, claim: str, passage: str, *, deadline: "Deadline") -> str | None:
        """The passage's words that state ``claim``, or None when the passage doesn't support it."""
        ...


def written(answerer: Answerer, question: str, evidence: Sequence[Evidence], history: Sequence[Turn], *,
            deadline: "Deadline") -> str:
    """The whole answer: the join of the stream."""
    return "".join(answerer.stream(question, evidence, history, deadline=deadline))
