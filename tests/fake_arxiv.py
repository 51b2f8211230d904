"""A local stand-in for arXiv's API: a tiny HTTP server on 127.0.0.1 answering `?id_list=<id>` with
Atom feeds as export.arxiv.org writes them (an entry, an empty result for an unknown id, the API's
error entry for a malformed id), or with a malformed feed or an HTTP error when told to."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

FEED_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:arxiv="http://arxiv.org/schemas/atom">
  <id>https://arxiv.org/api/x</id>
  <title>arXiv Query: search_query=&amp;id_list={ids}</title>
  <updated>2025-01-01T00:00:00Z</updated>
  <link href="https://arxiv.org/api/query?id_list={ids}" type="application/atom+xml"/>
  <opensearch:itemsPerPage>10</opensearch:itemsPerPage>
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
"""


@dataclass
class ArxivPaper:
    arxiv_id: str  # versioned, as the API names its entries: "2405.01234v2"
    title: str
    authors: tuple[str, ...]
    abstract: str
    published: str = "2024-05-02T17:59:01Z"
    comment: str = ""

    def entry(self) -> str:
        authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in self.authors)
        comment = f"<arxiv:comment>{escape(self.comment)}</arxiv:comment>" if self.comment else ""
        return f"""  <entry>
    <id>http://arxiv.org/abs/{self.arxiv_id}</id>
    <updated>{self.published}</updated>
    <published>{self.published}</published>
    <title>{escape(self.title)}</title>
    <summary>{escape(self.abstract)}</summary>
    {authors}{comment}
    <link href="https://arxiv.org/abs/{self.arxiv_id}" rel="alternate" type="text/html"/>
    <link title="pdf" href="https://arxiv.org/pdf/{self.arxiv_id}" rel="related" type="application/pdf"/>
    <arxiv:primary_category term="cs.LG"/>
  </entry>
"""


def feed(ids: str, papers: list[ArxivPaper]) -> str:
    return FEED_HEAD.format(ids=escape(ids), total=len(papers)) + "".join(p.entry() for p in papers) + "</feed>\n"


def error_feed(ids: str) -> str:
    """What the API answers for an id it cannot parse: one entry that is an error."""
    return FEED_HEAD.format(ids=escape(ids), total=1) + f"""  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_{escape(ids)}</id>
    <title>Error</title>
    <summary>incorrect id format for {escape(ids)}</summary>
    <updated>2025-01-01T00:00:00Z</updated>
    <author><name>arXiv api core</name></author>
  </entry>
</feed>
"""


MALFORMED = '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><title>Cut off'


@dataclass
class FakeArxiv:
    papers: dict[str, ArxivPaper] = field(default_factory=dict)  # version-free id -> the latest version
    malformed: set[str] = field(default_factory=set)  # ids answered with a broken feed
    bad_ids: set[str] = field(default_factory=set)  # ids answered with the API's error entry
    status: int = 200  # anything else: every request gets this status and no feed
    requests: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, id_list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, paper: ArxivPaper) -> ArxivPaper:
        self.papers[_unversioned(paper.arxiv_id)] = paper
        return paper

    def answer(self, ids: str) -> tuple[int, str]:
        with self.lock:
            self.requests.append((time.monotonic(), ids))
        if self.status != 200:
            return self.status, "<html><body>Service unavailable</body></html>"
        if ids in self.malformed:
            return 200, MALFORMED
        if ids in self.bad_ids:
            return 200, error_feed(ids)
        paper = self.papers.get(_unversioned(ids))
        return 200, feed(ids, [paper] if paper else [])


def _unversioned(arxiv_id: str) -> str:
    return re.sub(r"v\d+$", "", arxiv_id)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeArxiv

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        query = parse_qs(urlparse(self.path).query)
        status, body = self.fake.answer((query.get("id_list") or [""])[0])
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/atom+xml; charset=utf-8" if status == 200 else "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def start_fake_arxiv() -> tuple[FakeArxiv, ThreadingHTTPServer, str]:
    """(the fake, its server, the API's query URL)."""
    fake = FakeArxiv()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"fake": fake}))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return fake, server, f"http://127.0.0.1:{server.server_port}/api/query"
