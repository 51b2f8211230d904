"""Where a surface's reply to a question goes, and how it looks there."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol

from ...retrieval.types import Answer, Progress

# (plain-text fallback, blocks); no blocks: a text-only reply
Message = tuple[str, list[dict] | None]


class ProgressView(Protocol):
    """Shows answering's steps while the answer is made (task cards on a streamed message)."""

    def show(self, progress: Progress) -> None: ...


class Reply(ABC):
    """One surface's reply: what an answer, a refusal and an apology look like, and how they are sent."""

    def progress_cards(self) -> ProgressView | None:
        """Start showing answering's steps, where the surface can (None: it can't)."""
        return None

    @abstractmethod
    def answer(self, answer: Answer, question_id: int) -> Message:
        """The answer, logged as ``question_id``."""

    @abstractmethod
    def refusal(self, reason: str) -> Message:
        """Why the question can't be asked as it is (empty, too long)."""

    @abstractmethod
    def apology(self) -> Message:
        """Answering failed on our side."""

    @abstractmethod
    def send(self, message: Message, answer: Answer | None = None) -> None:
        """Send ``message``; ``answer`` is set when it is one (it ends a streamed message with its sources)."""
