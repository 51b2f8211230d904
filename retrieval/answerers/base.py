"""What every answerer gets and gives back.

An answerer writes the answer text from numbered evidence passages; it never makes citations.
`retrieval.answering` turns the ``[n]`` markers it wrote into verified citations.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from paperbot.retrieval.types import Paper, Turn


@dataclass(frozen=True)
class Evidence:
    """A retrieved passage offered to the answerer as ``[n]``."""

    n: int
    paper: Paper
    text: str  # verbatim chunk text
    score: float
    # How well each sentence of the paper answers the question (retrieval's scores), if known.
    sentence_scores: dict[str, float] | None = None


@dataclass(frozen=True)
class Draft:
    """The answerer's text, with ``[n]`` markers that refer to ``Evidence.n``."""

    text: str
    abstained: bool = False


class AnswererUnavailable(RuntimeError):
    """The answerer could not answer (timeout, rate limit, server error, bad key …).

    ``user_note`` is one line safe to show users; the cause stays in the logs.
    """

    def __init__(self, user_note: str, *, cause: BaseException | None = None):
        super().__init__(user_note)
        self.user_note = user_note
        self.__cause__ = cause


class Answerer(Protocol):
    name: str

    def answer(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn]) -> Draft:
        """Write the answer; raise :class:`AnswererUnavailable` when it can't."""
        ...

    def stream(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn]) -> Iterator[str]:
        """Yield the answer text as it is written (same contract as :meth:`answer`)."""
        ...
