"""Papers from pasted text (the Slack "add paper" modal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .common import collapse, optional_text, split_authors
from ...types import Paper, paper_id_for


def paper_from_text(
    text: str,
    *,
    title: str,
    source: str,
    authors: Sequence[str] | str = (),
    presenter: str | None = None,
    url: str | None = None,
    added: datetime | None = None,
    added_by: str | None = None,
) -> Paper:
    """A paper from a summary a user pasted; raises ValueError when text or title is empty."""
    body = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    title = collapse(title)
    if not body:
        raise ValueError("the paper's summary text is empty")
    if not title:
        raise ValueError("the paper needs a title")
    return Paper(
        id=paper_id_for(source, title),
        title=title,
        text=body,
        source=source,
        authors=split_authors(authors),
        presenter=optional_text(presenter),
        url=optional_text(url),
        added=added,
        added_by=added_by,
    )
