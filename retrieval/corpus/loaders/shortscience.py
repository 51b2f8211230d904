"""ShortScience summaries (shortscience-summaries.txt).

Page-header lines, then entries each introduced by a `[link]` line. Entries end with image
placeholders (`![]() |`) that are not summary text. The file carries no titles: a sidecar
supplies them (see `sidecar.py`); without one the title is derived from the first sentence.
"""

from __future__ import annotations

import re
from pathlib import Path

from .common import derive_title, make_paper
from ...types import Paper

SEPARATOR = "[link]"
# One or more markdown image placeholders, optionally closing a table cell with `|`. Alt text and
# link are bounded: unbounded, a long line of `![` with no `]` makes every match attempt scan to
# the end of the line (quadratic time).
IMAGE_PLACEHOLDERS = re.compile(r"(?:[ \t]*!\[[^\]]{0,500}\]\([^)]{0,2000}\))+(?:[ \t]*\|)?")


def looks_like_shortscience(text: str) -> bool:
    return any(line.strip() == SEPARATOR for line in text.split("\n"))


def parse_shortscience(text: str, path: Path) -> list[Paper]:
    lines = text.split("\n")
    separators = [i for i, line in enumerate(lines) if line.strip() == SEPARATOR]
    papers = []
    for position, start in enumerate(separators):
        end = separators[position + 1] if position + 1 < len(separators) else len(lines)
        cleaned = [(i, IMAGE_PLACEHOLDERS.sub("", lines[i]).rstrip()) for i in range(start + 1, end)]
        kept = [(i, line) for i, line in cleaned if line.strip()]
        if not kept:
            continue  # a separator with nothing after it: no text to lose
        first, last = kept[0][0], kept[-1][0]
        body = "\n".join(line for i, line in cleaned if first <= i <= last)
        papers.append(make_paper(path, title=derive_title(body), text=body, line=first + 1))
    return papers
