"""Which parser reads which file.

The three shipped source formats are recognised by a content signature (the file name is a
hint when more than one signature fits, and picks the parser when none does); every other
file goes by its extension.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from .common import read_text
from .errors import CorpusFormatError
from .hf_daily_papers import looks_like_hf_daily, parse_hf_daily
from .limits import InputLimits, check_file_size, check_paper_sizes
from .pdf_file import load_pdf
from .reading_group_blog import looks_like_blog, parse_blog
from .shortscience import looks_like_shortscience, parse_shortscience
from .sidecar import apply_sidecar, read_sidecar, sidecar_path
from .text_file import has_front_matter, parse_text_file
from ...types import Paper

TextParser = Callable[[str, Path], list[Paper]]

# Bump when a loader reads the same file into other papers than before: files an ingest recorded
# under another version are read again instead of being skipped as unchanged.
LOADERS_VERSION = 1


@dataclass(frozen=True)
class SourceFormat:
    """A known multi-paper source file layout."""

    name_hint: str  # glob on the file name
    signature: Callable[[str], bool]
    parse: TextParser


SOURCE_FORMATS: dict[str, SourceFormat] = {
    "reading-group-blog": SourceFormat("scale-ai-reading-group*", looks_like_blog, parse_blog),
    "shortscience": SourceFormat("shortscience*", looks_like_shortscience, parse_shortscience),
    "hf-daily-papers": SourceFormat("hf-daily-papers*", looks_like_hf_daily, parse_hf_daily),
}

# Everything else, by extension: text-like files are read as text first.
TEXT_PARSERS: dict[str, TextParser] = {".txt": parse_text_file, ".md": parse_text_file, ".markdown": parse_text_file}
BINARY_LOADERS: dict[str, Callable[[Path, InputLimits], list[Paper]]] = {".pdf": load_pdf}


def load_file(path: Path, limits: InputLimits = InputLimits()) -> list[Paper]:
    """Parse one corpus file into papers; raises CorpusFormatError naming file and line.

    A file or a summary over the limits raises TooLargeError (a CorpusFormatError) before
    any costly work: the size is checked before reading, a PDF's text as pages are extracted.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    check_file_size(path, path.stat().st_size, limits)
    if suffix in BINARY_LOADERS:
        papers = BINARY_LOADERS[suffix](path, limits)
    elif suffix in TEXT_PARSERS:
        text = read_text(path)
        papers = choose_parser(path, text)(text, path)
    else:
        raise CorpusFormatError(path, None, f"unsupported file type {path.suffix or '(none)'!r}")
    check_paper_sizes(papers, path, limits)
    return apply_sidecar(papers, read_sidecar(sidecar_path(path)), sidecar_path(path))


def choose_parser(path: Path, text: str) -> TextParser:
    if has_front_matter(text):
        return parse_text_file  # front matter means one paper described by its author
    hinted = [f for f in SOURCE_FORMATS.values() if fnmatch(path.name.lower(), f.name_hint)]
    fitting = [f for f in SOURCE_FORMATS.values() if f.signature(text)]
    for fmt in hinted:
        # A named source file whose content lost its signature goes to its own parser,
        # which then says clearly what is missing instead of mis-reading it as one paper.
        if fmt in fitting or not fitting:
            return fmt.parse
    if fitting:
        return fitting[0].parse
    return TEXT_PARSERS[path.suffix.lower()]
