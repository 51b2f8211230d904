"""Corpus loading: files in, `Paper`s out.

    corpus_files(paths)     -> the supported files under the given files/directories
    load_file(path, limits) -> the papers of one file (CorpusFormatError names file and line;
                               TooLargeError, one of them, when over the input limits)
    paper_from_text(...)    -> a paper from pasted text
"""

from .errors import CorpusFormatError
from .files import SUPPORTED_SUFFIXES, corpus_files
from .limits import InputLimits, TooLargeError
from .pasted import paper_from_text
from .registry import LOADERS_VERSION, SOURCE_FORMATS, load_file
from .sidecar import SIDECAR_SUFFIX

__all__ = [
    "CorpusFormatError",
    "InputLimits",
    "LOADERS_VERSION",
    "SIDECAR_SUFFIX",
    "SOURCE_FORMATS",
    "SUPPORTED_SUFFIXES",
    "TooLargeError",
    "corpus_files",
    "load_file",
    "paper_from_text",
]
