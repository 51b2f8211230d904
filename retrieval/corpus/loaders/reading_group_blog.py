"""The reading-group blog post (scale-ai-reading-group.txt).

An intro, then per paper: a title (possibly wrapped), an `Authors:` line (authors may wrap;
`Presenter:NAME` ends the authors or sits on its own line, and may be empty), then the
summary. The post ends with a call-to-action outro that is not part of any paper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .common import collapse, ends_sentence, make_paper, split_authors
from .errors import CorpusFormatError
from ...types import Paper

AUTHORS = re.compile(r"^Authors:", re.M)
PRESENTER = re.compile(r"Presenter:[ \t]*(?P<name>.*)$")
# A recruiting call-to-action closing the post ("If you're interested in joining our team…").
OUTRO = re.compile(r"(?i)\b(?:joining our|join our|careers page|we[’']re hiring|open positions)\b")
MAX_TITLE_LINES = 3
MAX_AUTHOR_LINES = 4
MAX_OUTRO_LINES = 4
# Small words a Title Case line keeps lower case.
_MINOR_WORDS = frozenset(
    "a an and as at but by for from in into is of on or the to via vs with without".split()
)


def looks_like_blog(text: str) -> bool:
    return bool(AUTHORS.search(text)) and "Presenter:" in text


@dataclass
class _Entry:
    title_start: int  # 0-based line indexes into the file
    authors_line: int
    header_end: int  # exclusive: the body starts here
    authors: tuple[str, ...]
    presenter: str | None


def parse_blog(text: str, path: Path) -> list[Paper]:
    lines = text.split("\n")
    entries: list[_Entry] = []
    for index, line in enumerate(lines):
        if AUTHORS.match(line):
            floor = entries[-1].header_end if entries else 0
            if index < floor:  # an `Authors:` line inside the previous header
                raise CorpusFormatError(path, index + 1, "a second `Authors:` line in one paper header")
            entries.append(_read_header(lines, index, floor, path))
    if not entries:
        raise CorpusFormatError(path, None, "no `Authors:` line: not a reading-group blog post")

    papers = []
    for position, entry in enumerate(entries):
        is_last = position == len(entries) - 1
        body_end = len(lines) if is_last else entries[position + 1].title_start
        body = _trim(lines, entry.header_end, body_end)
        if is_last:
            body = (body[0], _outro_start(lines, *body))
        if body[0] >= body[1]:
            raise CorpusFormatError(path, entry.authors_line + 1, "paper has no summary after its header")
        papers.append(
            make_paper(
                path,
                title=" ".join(lines[entry.title_start:entry.authors_line]),
                header="\n".join(lines[entry.title_start:entry.header_end]),
                text="\n".join(lines[body[0]:body[1]]),
                line=entry.title_start + 1,
                authors=entry.authors,
                presenter=entry.presenter,
            )
        )
    return papers


def _read_header(lines: list[str], authors_line: int, floor: int, path: Path) -> _Entry:
    title_start = _title_start(lines, authors_line, floor)
    if title_start is None:
        raise CorpusFormatError(path, authors_line + 1, "`Authors:` line with no paper title above it")
    # Authors run on until the line carrying `Presenter:`; without one, while lines end with a comma.
    end = authors_line
    presenter_line = None
    for i in range(authors_line, min(authors_line + MAX_AUTHOR_LINES, len(lines))):
        if i > authors_line and (AUTHORS.match(lines[i]) or not lines[i].strip()):
            break  # never borrow the next paper's presenter
        if "Presenter:" in lines[i]:
            presenter_line = i
            break
    if presenter_line is not None:
        end = presenter_line
    else:
        while end + 1 < len(lines) and lines[end].rstrip().endswith(",") and lines[end + 1].strip():
            end += 1
    block = " ".join(lines[authors_line:end + 1]).removeprefix("Authors:")
    presenter = None
    found = PRESENTER.search(block)
    if found:
        presenter = collapse(found.group("name")) or None
        block = block[: found.start()]
    return _Entry(title_start, authors_line, end + 1, split_authors(block), presenter)


def _title_start(lines: list[str], authors_line: int, floor: int) -> int | None:
    """First line of the title above `authors_line`, or None when there is none.

    The line right above `Authors:` ends the title (unless it ends with a period). An earlier line continues it when it
    does not end a sentence and either reads as Title Case or the title so far starts in lower
    case (a sentence-case title wrapped mid-phrase); otherwise it ended the previous text.
    """
    start = authors_line - 1
    if start < floor or not lines[start].strip() or lines[start].rstrip().endswith("."):
        return None  # nothing above, or the end of a prose sentence: titles don't end with '.'
    while start - 1 >= floor and authors_line - start < MAX_TITLE_LINES:
        candidate = lines[start - 1]
        if not candidate.strip() or ends_sentence(candidate):
            break
        if not (_is_title_case(candidate) or lines[start].lstrip()[:1].islower()):
            break
        start -= 1
    return start


def _is_title_case(line: str) -> bool:
    words = [w for w in re.findall(r"[^\s]+", line) if w[0].isalpha()]
    major = [w for w in words if w.lower() not in _MINOR_WORDS]
    if not major:
        return False
    capitalised = sum(1 for w in major if w[0].isupper())
    return capitalised / len(major) >= 0.75


def _trim(lines: list[str], start: int, end: int) -> tuple[int, int]:
    """Drop blank lines at both ends of [start, end)."""
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return start, end


def _outro_start(lines: list[str], start: int, end: int) -> int:
    """Where the post's closing call-to-action begins within the last summary (`end` if none).

    The outro starts at a line that follows a finished sentence, and everything from there on
    is the (short) call-to-action; the latest such line wins so no summary text is cut.
    """
    for candidate in range(end - 1, max(start, end - MAX_OUTRO_LINES - 1), -1):
        if ends_sentence(lines[candidate - 1]) and OUTRO.search(" ".join(lines[candidate:end])):
            return _trim(lines, start, candidate)[1]
    return end
