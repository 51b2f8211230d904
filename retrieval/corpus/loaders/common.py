"""Helpers every parser shares: building a Paper, authors, dates, derived titles."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timezone
from pathlib import Path

from .errors import CorpusFormatError
from ...types import Paper, paper_id_for

# Sentence-ending punctuation, optionally followed by closing quotes/brackets.
_SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*\s*$")
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?=\s|$)", re.S)
_AUTHOR_SEPARATORS = re.compile(r"\s*(?:,|;|&|\band\b)\s*")
DERIVED_TITLE_MAX = 80


def read_text(path: Path) -> str:
    """A text file as str with `\n` line ends; a file that is not UTF-8 is an error naming the line."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CorpusFormatError(path, line, f"not UTF-8 text ({error.reason})") from error
    return text.replace("\r\n", "\n").replace("\r", "\n")


def ends_sentence(line: str) -> bool:
    return bool(_SENTENCE_END.search(line))


def collapse(text: str) -> str:
    return " ".join(text.split())


def derive_title(text: str) -> str:
    """A title for a summary whose source gives none: its first sentence, shortened at a word."""
    stripped = text.strip()
    match = _FIRST_SENTENCE.match(stripped)
    sentence = collapse(match.group(1) if match else stripped).rstrip(".")
    if len(sentence) <= DERIVED_TITLE_MAX:
        return sentence
    cut = sentence[:DERIVED_TITLE_MAX].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def split_authors(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Authors given as a list, or as one string separated by commas / 'and'."""
    if value is None:
        return ()
    names = _AUTHOR_SEPARATORS.split(value) if isinstance(value, str) else [str(v) for v in value]
    return tuple(name for name in (collapse(n) for n in names) if name)


def parse_added(value: object) -> datetime | None:
    """A date, datetime or ISO string as an aware datetime (naive values are taken as UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())  # ValueError on a bad string
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=timezone.utc)
    raise ValueError(f"expected a date or datetime, got {value!r}")


def optional_text(value: object) -> str | None:
    """Presenter, url and the like: None when absent or blank."""
    if value is None:
        return None
    text = collapse(str(value))
    return text or None


def make_paper(
    path: Path,
    *,
    title: str,
    text: str,
    line: int | None,
    header: str = "",
    authors: tuple[str, ...] = (),
    presenter: str | None = None,
    url: str | None = None,
    date: datetime | None = None,
    added: datetime | None = None,
    added_by: str | None = None,
) -> Paper:
    title = collapse(title)
    return Paper(
        id=paper_id_for(path.name, title),
        title=title,
        text=text,
        source=path.name,
        authors=authors,
        presenter=presenter or None,
        url=url,
        header=header,
        date=date,
        added=added,
        added_by=added_by,
        path=str(path),
        line=line,
    )
