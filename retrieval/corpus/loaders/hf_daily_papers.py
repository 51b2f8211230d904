"""The Hugging Face daily-papers page (hf-daily-papers.txt).

Page-header lines, then alternating title line / abstract line. The first title is glued
to the page's `Subscribe` button text; titles may contain LaTeX (`U$^2$-Net`).
"""

from __future__ import annotations

import re
from pathlib import Path

from .common import make_paper
from .errors import CorpusFormatError
from ...types import Paper

SUBSCRIBE = re.compile(r"^Subscribe(?=\S)", re.M)
# A title is one short line; an abstract in its place means the alternation slipped.
MAX_TITLE_CHARS = 300


def looks_like_hf_daily(text: str) -> bool:
    return bool(SUBSCRIBE.search(text))


def parse_hf_daily(text: str, path: Path) -> list[Paper]:
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if SUBSCRIBE.match(line)), None)
    if first is None:
        raise CorpusFormatError(path, None, "no `Subscribe<title>` line: not a daily-papers page")
    # (line index, text) of every non-blank line from the first title on.
    rows = [(i, lines[i]) for i in range(first, len(lines)) if lines[i].strip()]
    rows[0] = (first, SUBSCRIBE.sub("", rows[0][1], count=1))
    if len(rows) % 2:
        index, title = rows[-1]
        raise CorpusFormatError(path, index + 1, f"title {title.strip()!r} has no abstract line after it")

    papers = []
    for (title_index, title), (_, abstract) in zip(rows[::2], rows[1::2]):
        if len(title) > MAX_TITLE_CHARS:
            raise CorpusFormatError(
                path, title_index + 1,
                "expected a title line but found a paragraph (is a title or an abstract missing above?)",
            )
        papers.append(make_paper(path, title=title, header=title, text=abstract, line=title_index + 1))
    return papers
