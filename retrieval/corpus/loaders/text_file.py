"""Generic text / markdown files: one paper each, with optional YAML front matter.

Front matter keys: title, authors (list or comma string), presenter, url, date (when the paper
was presented or published), added (when it entered the corpus; date or datetime), added_by.
Without a title, the first markdown heading or first line is the title.
"""

from __future__ import annotations

import re
from itertools import islice
from pathlib import Path

from frontmatter import YAMLHandler

from .common import derive_title, make_paper
from .errors import CorpusFormatError
from .metadata import PaperMetadata, key_lines, parse_yaml, read_metadata
from ...types import Paper

_HANDLER = YAMLHandler()
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
# A first line longer than this is a paragraph, not a title.
MAX_TITLE_LINE_CHARS = 200


def has_front_matter(text: str) -> bool:
    return bool(_HANDLER.detect(text))


def parse_text_file(text: str, path: Path) -> list[Paper]:
    metadata, body, body_line = _split_front_matter(text, path)
    lines = body.split("\n")
    content = [i for i, line in enumerate(lines) if line.strip()]
    if not content:
        reason = "no summary text after the front matter" if body_line > 1 else "file is empty"
        raise CorpusFormatError(path, body_line, reason)
    first, last = content[0], content[-1]

    header, title, text_start = "", metadata.title, first
    if title is None:
        first_line = lines[first].strip()
        heading = _HEADING.match(first_line)
        has_more = len(content) > 1
        if heading and not has_more:
            raise CorpusFormatError(path, body_line + first, "only a heading, no summary text")
        if heading or (has_more and len(first_line) <= MAX_TITLE_LINE_CHARS):
            # The first line names the paper: keep it verbatim as the header.
            title = heading.group("title") if heading else first_line
            header = lines[first]
            text_start = content[1]
        else:
            title = derive_title(body)
    summary = "\n".join(lines[text_start:last + 1])
    return [
        make_paper(
            path,
            title=title,
            text=summary,
            header=header,
            line=body_line + first,
            authors=metadata.authors or (),
            presenter=metadata.presenter,
            url=metadata.url,
            date=metadata.date,
            added=metadata.added,
            added_by=metadata.added_by,
        )
    ]


def _split_front_matter(text: str, path: Path) -> tuple[PaperMetadata, str, int]:
    """(metadata, body, file line where the body starts)."""
    if not has_front_matter(text):
        return PaperMetadata(), text, 1
    boundaries = list(islice(_HANDLER.FM_BOUNDARY.finditer(text), 2))  # the opening and closing `---` only
    if len(boundaries) < 2:
        raise CorpusFormatError(path, 1, "front matter opened with `---` is never closed")
    opening, closing = boundaries[0], boundaries[1]
    # Split on whole lines: the boundary pattern's trailing \s* may also swallow blank lines.
    fm_start = _next_line(text, opening.start())
    fm_text = text[fm_start:closing.start()]
    fm_line = text.count("\n", 0, fm_start) + 1  # file line of fm_text's first line
    node, data = parse_yaml(fm_text, path, first_line=fm_line, what="front matter")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CorpusFormatError(path, fm_line, "front matter must be a mapping of keys (title, authors, ...)")
    metadata = read_metadata(data, path, 1, key_lines(node, first_line=fm_line))
    body_start = _next_line(text, closing.start())
    return metadata, text[body_start:], text.count("\n", 0, body_start) + 1


def _next_line(text: str, position: int) -> int:
    """Index of the start of the line after the one holding `position` (len(text) if none)."""
    newline = text.find("\n", position)
    return len(text) if newline == -1 else newline + 1
