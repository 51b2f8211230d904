"""The project's own small types: where `retrieval/` and `bot/` meet.

No LlamaIndex, Chroma or Slack types cross this boundary.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from urllib.parse import urlparse


def slugify(text: str, max_len: int = 48) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "paper"


def paper_id_for(source: str, title: str) -> str:
    """A stable id: the same source and title give the same id on every ingest."""
    digest = hashlib.sha1(f"{source}\n{' '.join(title.split()).lower()}".encode()).hexdigest()[:8]
    return f"{slugify(title)}-{digest}"


@dataclass(frozen=True)
class Paper:
    """One summary of one paper, as the corpus holds it."""

    id: str
    title: str
    text: str  # the verbatim summary body
    source: str  # file name the paper came from, e.g. "scale-ai-reading-group.txt"
    authors: tuple[str, ...] = ()
    presenter: str | None = None
    url: str | None = None
    header: str = ""  # verbatim lines before the body (title, authors, presenter), if any
    # When it entered this index; None for the papers of the index's first ingest (the library as it
    # was set up: not news) unless their source says when they were added.
    added: datetime | None = None
    date: datetime | None = None  # the source's own date: when the paper was presented or published
    added_by: str | None = None
    path: str | None = None  # file it was loaded from, for --prune
    line: int | None = None  # first line of the paper in that file

    @property
    def content_hash(self) -> str:
        """Changes whenever anything users can see of the paper changes."""
        parts = [self.title, "\x1f".join(self.authors), self.presenter or "", self.url or "", self.header, self.text]
        if self.date:  # only when set, so the hashes of undated papers stay as they were
            parts.append(self.date.isoformat())
        return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()

    @property
    def source_text(self) -> str:
        """All verbatim corpus text of this paper: citations must quote from it."""
        return f"{self.header}\n{self.text}" if self.header else self.text

    def with_added(self, added: datetime | None = None) -> "Paper":
        return replace(self, added=added or datetime.now(timezone.utc))


@dataclass(frozen=True)
class Citation:
    n: int
    paper_id: str
    title: str
    source: str
    snippet: str  # verbatim corpus text (whitespace may be collapsed, '…' may join two pieces)
    score: float
    url: str | None = None  # the paper's link, if the corpus gives one (not part of the --json contract)

    def to_dict(self) -> dict:
        return {
            "n": self.n, "paper_id": self.paper_id, "title": self.title,
            "source": self.source, "snippet": self.snippet, "score": round(float(self.score), 4),
        }


@dataclass(frozen=True)
class PaperRef:
    """A paper suggested to the user (e.g. the nearest papers when abstaining)."""

    paper_id: str
    title: str
    source: str
    score: float = 0.0


@dataclass(frozen=True)
class Progress:
    """A step of making an answer, for people to watch while they wait: never any answer text."""

    step: str  # one id per step: "search", "read", "check"
    title: str  # what it is doing, e.g. "Reading 3 summaries"


@dataclass
class Answer:
    question: str
    answer: str  # carries [n] markers that refer to citations[n-1]
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    latency_ms: float = 0.0
    note: str | None = None  # one line for the user, e.g. "The language model timed out; here is the extractive answer."
    suggestions: list[PaperRef] = field(default_factory=list)
    answerer: str = "local"
    paper_ids: list[str] = field(default_factory=list)  # the papers the answer is about, best first

    def __post_init__(self):
        if not self.paper_ids:
            self.paper_ids = list(dict.fromkeys(c.paper_id for c in self.citations))

    def to_dict(self) -> dict:
        """The answer contract of `paperbot ask --json` (see README)."""
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "latency_ms": round(self.latency_ms, 1),
            "note": self.note,
            "citations": [c.to_dict() for c in self.citations],
        }


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation (a Slack thread, a CLI session)."""

    question: str
    answer: str
    paper_ids: tuple[str, ...] = ()  # the papers that answer cited, in citation order


@dataclass(frozen=True)
class Chunk:
    """A piece of a paper's summary as indexed (verbatim text)."""

    id: str
    paper_id: str
    text: str
    position: int = 0  # order of the chunk within its paper


@dataclass(frozen=True)
class ScoredChunk:
    chunk: Chunk
    score: float


# -- arXiv ids: what a Slack link or `paperbot add` names ------------------------------------

_NEW_ID = r"\d{4}\.\d{4,5}"  # 0704.0001 … 2401.12345
_OLD_ID = r"[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7}"  # hep-th/9901001, math.GT/0309136
_ID = re.compile(rf"^(?:arxiv:)?({_NEW_ID}|{_OLD_ID})(v\d+)?$", re.I)
_PATH = re.compile(rf"^/(?:abs|pdf|html)/({_NEW_ID}|{_OLD_ID})(v\d+)?(?:\.pdf)?/?$", re.I)
ARXIV_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org"}


@dataclass(frozen=True)
class ArxivId:
    id: str  # without version: "2401.12345", "hep-th/9901001"
    version: str = ""  # "v2", or "" for the latest

    @property
    def versioned(self) -> str:
        return self.id + self.version

    @property
    def abs_url(self) -> str:
        """The paper's page, any version: what a paper added from arXiv keeps as its link."""
        return f"https://arxiv.org/abs/{self.id}"

    def __str__(self) -> str:
        return self.versioned


def parse_arxiv_id(text: str) -> ArxivId | None:
    """The arXiv id in a bare id or an arxiv.org link (abs, pdf, versioned); None for anything else."""
    text = (text or "").strip().strip("<>")
    match = _ID.match(text)
    if match:
        return ArxivId(_canonical(match.group(1)), (match.group(2) or "").lower())
    parsed = urlparse(text if "://" in text else f"https://{text}")
    if parsed.scheme not in ("http", "https") or (parsed.hostname or "").lower() not in ARXIV_HOSTS:
        return None
    match = _PATH.match(parsed.path)
    if not match:
        return None
    return ArxivId(_canonical(match.group(1)), (match.group(2) or "").lower())


def _canonical(arxiv_id: str) -> str:
    archive, slash, number = arxiv_id.partition("/")
    if not slash:
        return arxiv_id
    # Archive names are lower case, subject classes upper case: math.GT/0309136.
    name, dot, subject = archive.partition(".")
    return f"{name.lower()}{dot}{subject.upper()}/{number}"
