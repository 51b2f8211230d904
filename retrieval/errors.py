"""The errors retrieval raises whose message is meant for people (all derive from PaperbotError).

They are defined here, and raised by the modules that meet them (each re-imports its own), so the
Slack bot and the CLI catch them by name without loading the index, LlamaIndex or Chroma.
"""

from __future__ import annotations

from pathlib import Path

from ..config.errors import PaperbotError


class QuestionError(PaperbotError, ValueError):
    """The question can't be asked as it is (empty, too long); the message says why."""


class IndexBusy(PaperbotError):
    """Another writer holds the index; the message says who ("held by pid 1234 (paperbot ingest) since 20:31:05")."""


class DuplicatePaperError(PaperbotError, ValueError):
    """A paper with that title is already in the corpus."""


class StoreError(PaperbotError, RuntimeError):
    """Chroma can't be reached or used; the message says what to do."""


class ArxivError(PaperbotError):
    """The paper cannot be had from arXiv; the message is one line for the user."""


class CorpusFormatError(PaperbotError, ValueError):
    """A corpus file (or its sidecar) that cannot be parsed; names the file and, when known, the line."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


__all__ = ["ArxivError", "CorpusFormatError", "DuplicatePaperError", "IndexBusy", "PaperbotError", "QuestionError",
           "StoreError"]
