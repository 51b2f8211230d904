"""Adding a paper from arXiv: the one flow `paperbot add`, `/paper add <id>` and the unfurl's button share.

A paper already in the library — the same arXiv id (any version) or the same title — is
returned as it is, not added twice; nothing is written unless the whole fetch succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .arxiv import ArxivClient, ArxivEntry, ArxivId, paper_from_arxiv
from ..types import Paper

if TYPE_CHECKING:
    from ..library import Library


@dataclass(frozen=True)
class ArxivAdd:
    paper: Paper  # the paper as the library now holds it
    added: bool  # False: it was already in (``paper`` is that one)
    entry: ArxivEntry | None = None  # what arXiv said, when it was asked


def add_from_arxiv(library: Library, client: ArxivClient, arxiv_id: ArxivId, *, added_by: str | None = None,
                   presenter: str | None = None, wait_s: float | None = None) -> ArxivAdd:
    """Fetch the paper from arXiv and index it, unless the library has it (ArxivError, IndexBusy)."""
    from .ingest import DuplicatePaperError

    known = library.paper_from_arxiv(arxiv_id.id)
    if known is not None:  # no request to arXiv for a paper we have
        return ArxivAdd(known, added=False)
    entry = client.fetch(arxiv_id)
    same_title = library.paper_titled(entry.title)
    if same_title is not None:
        return ArxivAdd(same_title, added=False, entry=entry)
    paper = paper_from_arxiv(entry, presenter=presenter, added=datetime.now(timezone.utc), added_by=added_by)
    try:
        return ArxivAdd(library.add_paper(paper, wait_s=wait_s), added=True, entry=entry)
    except DuplicatePaperError:  # added by someone else between the check and the write
        return ArxivAdd(library.paper_titled(entry.title) or paper, added=False, entry=entry)
