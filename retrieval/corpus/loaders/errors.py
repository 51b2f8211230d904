"""The one error a corpus file that cannot be parsed raises."""

from __future__ import annotations

from pathlib import Path
from ....config.errors import PaperbotError


class CorpusFormatError(PaperbotError, ValueError):
    """A corpus file (or its sidecar) that cannot be parsed; names the file and, when known, the line."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")
