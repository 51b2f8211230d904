"""arXiv: read an id or link, fetch the paper's metadata from arXiv's API, map it to a `Paper`.

    parse_arxiv_id(text)   -> ArxivId | None  (bare ids, `arXiv:` ids, abs/pdf links, versions,
                                               old-style ids such as hep-th/9901001)
    ArxivClient.fetch(id)  -> ArxivEntry      (one request, spaced as arXiv asks; ArxivError otherwise)
    paper_from_arxiv(...)  -> Paper           (the abstract is the summary until someone writes one)

The API answers an Atom feed; feedparser reads it. Each failure is an ``ArxivError`` whose
message is one line naming the cause and what to check.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from urllib.parse import urlparse
from xml.sax import SAXException

import feedparser
import httpx

from .loaders import paper_from_text
from ..errors import ArxivError
from ..types import ArxivId, Paper, parse_arxiv_id

SOURCE = "arxiv"  # the `source` of papers added from arXiv
API_SETTING = "PAPERBOT_ARXIV__API_URL"
USER_AGENT = "paperbot (a reading-group assistant)"

# A withdrawn paper's last version says so in its comment, or its abstract is that notice.
_WITHDRAWN_COMMENT = re.compile(r"\bwithdrawn\b", re.I)
_WITHDRAWN_ABSTRACT = re.compile(r"^\s*this (?:paper|article|submission|manuscript) (?:has been|is) withdrawn", re.I)


class ArxivNotFound(ArxivError):
    pass


class ArxivWithdrawn(ArxivError):
    pass


class ArxivUnavailable(ArxivError):
    pass


class ArxivFeedError(ArxivError):
    pass


@dataclass(frozen=True)
class ArxivEntry:
    arxiv_id: ArxivId
    title: str
    authors: tuple[str, ...]
    abstract: str
    published: datetime | None

    @property
    def url(self) -> str:
        return self.arxiv_id.abs_url


class RequestSpacing:
    """At least ``seconds`` between the starts of two requests from this process (arXiv's terms ask 3 s)."""

    def __init__(self, seconds: float, clock=time.monotonic, sleep=time.sleep):
        self.seconds, self._clock, self._sleep = seconds, clock, sleep
        self._lock = threading.Lock()
        self._last: float | None = None

    def wait(self) -> None:
        with self._lock:  # requests queue up one after another, each spaced from the one before
            if self._last is not None:
                left = self._last + self.seconds - self._clock()
                if left > 0:
                    self._sleep(left)
            self._last = self._clock()


class ArxivClient:
    """Fetches one paper's entry from the API's query URL (``?id_list=<id>`` is added)."""

    def __init__(self, api_url: str, *, spacing: RequestSpacing, timeout_s: float = 15.0):
        self.api_url, self.spacing, self.timeout_s = api_url, spacing, timeout_s

    @classmethod
    def from_settings(cls, settings) -> "ArxivClient":
        arxiv = settings.arxiv
        return cls(arxiv.api_url, spacing=RequestSpacing(arxiv.request_spacing_s), timeout_s=arxiv.timeout_s)

    def fetch(self, arxiv_id: ArxivId) -> ArxivEntry:
        self.spacing.wait()
        try:
            response = httpx.get(self.api_url, params={"id_list": arxiv_id.versioned}, timeout=self.timeout_s,
                                 headers={"User-Agent": USER_AGENT}, follow_redirects=True)
        except httpx.TimeoutException:
            raise ArxivUnavailable(f"arXiv's API did not answer within {self.timeout_s:g} s ({self._where}): "
                                   "try again later") from None
        except httpx.HTTPError as exc:
            raise ArxivUnavailable(f"cannot reach arXiv's API ({self._where}: {type(exc).__name__}): "
                                   f"check the network or {API_SETTING}") from None
        if response.status_code != 200:
            raise ArxivUnavailable(f"arXiv's API answered HTTP {response.status_code} ({self._where}): "
                                   f"try again later, or check {API_SETTING}")
        return entry_from_feed(response.content, arxiv_id, where=self._where)

    @property
    def _where(self) -> str:
        parsed = urlparse(self.api_url)
        return f"{parsed.scheme}://{parsed.netloc}{parsed.path}"  # never a query string someone put a key in


def entry_from_feed(body: bytes, arxiv_id: ArxivId, *, where: str = "the API") -> ArxivEntry:
    """The one entry of an API answer for ``arxiv_id``; ArxivError when there is none or it is unusable."""
    feed = feedparser.parse(body)
    broken = feed.get("bozo_exception")
    if isinstance(broken, SAXException):  # feedparser reads on past XML errors; a cut-off feed is not an answer
        raise ArxivFeedError(f"arXiv's API ({where}) sent a malformed feed ({_one_line(broken)}): try again later")
    if not str(feed.get("version", "")).startswith("atom"):
        raise ArxivFeedError(f"arXiv's API ({where}) sent something that is not an Atom feed: check {API_SETTING}")
    entries = [e for e in feed.entries if "/api/errors" not in e.get("id", "")]
    errors = [e for e in feed.entries if "/api/errors" in e.get("id", "")]
    if errors:  # the API's way of saying the id is malformed
        raise ArxivNotFound(f"arXiv does not know {arxiv_id}: {_one_line(errors[0].get('summary', 'bad id'))}")
    if not entries:
        raise ArxivNotFound(f"no arXiv paper {arxiv_id}: check the id (e.g. 1706.03762 or hep-th/9901001)")
    entry = entries[0]
    title, abstract = _one_line(entry.get("title", "")), " ".join(entry.get("summary", "").split())
    if not title or not abstract:
        raise ArxivFeedError(f"arXiv's entry for {arxiv_id} has no {'title' if not title else 'abstract'} "
                             f"({where}): try again later")
    if _WITHDRAWN_COMMENT.search(entry.get("arxiv_comment", "")) or _WITHDRAWN_ABSTRACT.match(abstract):
        raise ArxivWithdrawn(f"arXiv {arxiv_id} has been withdrawn by its authors: nothing to add")
    authors = tuple(name for a in entry.get("authors", []) if (name := _one_line(a.get("name", ""))))
    published = entry.get("published_parsed")
    when = datetime(*published[:6]).replace(tzinfo=timezone.utc) if published else None
    return ArxivEntry(arxiv_id, title, authors, abstract, when)


def paper_from_arxiv(entry: ArxivEntry, *, summary: str | None = None, title: str | None = None,
                     authors=None, presenter: str | None = None, added: datetime | None = None,
                     added_by: str | None = None) -> Paper:
    """The paper as the library keeps it; the abstract is its summary unless one is given."""
    paper = paper_from_text(summary or entry.abstract, title=title or entry.title, source=SOURCE,
                            authors=entry.authors if authors is None else authors, presenter=presenter,
                            url=entry.url, added=added, added_by=added_by)
    return replace(paper, date=entry.published)


def arxiv_id_of(url: str | None) -> str | None:
    """The version-free arXiv id a paper's link points at, if it points at arXiv."""
    parsed = parse_arxiv_id(url) if url and "arxiv" in url.lower() else None
    return parsed.id if parsed else None


def _one_line(text: object) -> str:
    return " ".join(str(text).split())
