"""The errors retrieval raises whose message is meant for people (all derive from PaperbotError).

The Slack bot and the CLI catch these by name; they import them from here, not from the module
that raises them, so catching one never loads the index, LlamaIndex or Chroma.
"""

from __future__ import annotations

from ..config.errors import PaperbotError


class QuestionError(PaperbotError, ValueError):
    """The question can't be asked as it is (empty, too long); the message says why."""


__all__ = ["PaperbotError", "QuestionError"]
