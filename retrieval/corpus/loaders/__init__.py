"""Corpus loading: files in, `Paper`s out.

    corpus_files(paths)     -> the supported files under the given files/directories
    load_file(path, limits) -> the papers of one file (CorpusFormatError names file and line;
                               TooLargeError, one of them, when over the input limits)
    paper_from_text(...)    -> a paper from pasted text
"""

from paperbot.retrieval.corpus.loaders.errors import CorpusFormatError
from paperbot.retrieval.corpus.loaders.files import SUPPORTED_SUFFIXES, corpus_files
from paperbot.retrieval.corpus.loaders.limits import InputLimits, TooLargeError
from paperbot.retrieval.corpus.loaders.pasted import paper_from_text
from paperbot.retrieval.corpus.loaders.registry import LOADERS_VERSION, SOURCE_FORMATS, load_file
from paperbot.retrieval.corpus.loaders.sidecar import SIDECAR_SUFFIX

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
