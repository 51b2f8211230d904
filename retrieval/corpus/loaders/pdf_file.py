"""PDF files (pypdf): one paper each, title from the PDF metadata or its first line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from .common import derive_title, make_paper, optional_text, split_authors
from .errors import CorpusFormatError
from .limits import InputLimits, TooLargeError, text_too_large
from .text_file import MAX_TITLE_LINE_CHARS
from ...types import Paper

# Titles PDF tools write when the author set none ("untitled", "Microsoft Word - draft.docx").
_PLACEHOLDER_TITLE = re.compile(r"(?i)^(?:untitled|microsoft word - .*|.*\.(?:docx?|tex|dvi|pdf))$")

# Authors PDF tools write when none was set (reportlab writes "anonymous").
_PLACEHOLDER_AUTHOR = re.compile(r"(?i)^(?:anonymous|unknown|author|\(anonymous\))$")


def load_pdf(path: Path, limits: InputLimits = InputLimits()) -> list[Paper]:
    return [paper_from_pdf(path, path, limits)]


def paper_from_pdf(source: Path | BinaryIO, path: Path, limits: InputLimits = InputLimits()) -> Paper:
    """The paper of one PDF, read from ``source`` (a file, or the bytes of one downloaded), named ``path``."""
    try:
        reader = PdfReader(source)
        pages = _page_texts(reader, path, limits)
        info = reader.metadata
    except TooLargeError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        # pypdf raises a spread of error types on damaged files; all mean "cannot read this PDF".
        raise CorpusFormatError(path, None, f"unreadable PDF: {error}") from error
    text = "\n".join(page.strip("\n") for page in pages).strip()
    if not text:
        raise CorpusFormatError(
            path, None, "PDF has no extractable text (a scanned PDF? run OCR on it first)"
        )
    title = optional_text(info.title) if info else None
    if title is None or _PLACEHOLDER_TITLE.match(title):
        first_line = text.split("\n", 1)[0].strip()
        title = first_line if len(first_line) <= MAX_TITLE_LINE_CHARS else derive_title(text)
    author = optional_text(info.author) if info else None
    authors = split_authors(author) if author and not _PLACEHOLDER_AUTHOR.match(author) else ()
    return make_paper(path, title=title, text=text, line=None, authors=authors)


def _page_texts(reader: PdfReader, path: Path, limits: InputLimits) -> list[str]:
    """Each page's text; stops as soon as the text is over the limit (a book need not be read whole)."""
    pages, chars = [], 0
    for page in reader.pages:
        pages.append(page.extract_text() or "")
        chars += len(pages[-1])
        if limits.max_paper_chars is not None and chars > limits.max_paper_chars:
            raise text_too_large(path, None, limits, limits.max_paper_chars, more=True)
    return pages
