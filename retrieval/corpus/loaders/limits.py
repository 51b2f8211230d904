"""Input limits: a file or a summary too big to ingest in reasonable time is skipped, with a clear line.

Chunking and embedding cost grows with a summary's length (a 5 MB summary is ~6,000 chunks,
minutes of embedding on 2 cores; past ~20 MB NLTK's sentence splitter gives up on its own
regular-expression time limit), so ingest refuses such input up front instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ....config.settings import FILE_SETTING, PAPER_SETTING  # the settings named in messages
from .errors import CorpusFormatError
from ...types import Paper



@dataclass(frozen=True)
class InputLimits:
    max_file_bytes: int | None = None  # on disk, checked before the file is read
    max_paper_chars: int | None = None  # of one paper's text, checked as it is extracted


class TooLargeError(CorpusFormatError):
    """A file or a summary over a limit: skipped, nothing of it is indexed."""


def check_file_size(path: Path, size: int, limits: InputLimits) -> None:
    if limits.max_file_bytes is not None and size > limits.max_file_bytes:
        raise TooLargeError(path, None, f"skipped: too large ({size / 1e6:.1f} MB; the limit is "
                                        f"{limits.max_file_bytes / 1e6:g} MB, set by {FILE_SETTING})")


def text_too_large(path: Path, line: int | None, limits: InputLimits, chars: int, *, more: bool = False) -> TooLargeError:
    amount = f"more than {chars:,}" if more else f"{chars:,}"
    return TooLargeError(path, line, f"skipped: too large (a summary of {amount} characters; the limit is "
                                     f"{limits.max_paper_chars:,}, set by {PAPER_SETTING})")


def check_paper_sizes(papers: Sequence[Paper], path: Path, limits: InputLimits) -> None:
    if limits.max_paper_chars is None:
        return
    for paper in papers:
        if len(paper.text) > limits.max_paper_chars:
            raise text_too_large(path, paper.line, limits, len(paper.text))
