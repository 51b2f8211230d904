"""Which files of the given paths make up the corpus."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from paperbot.retrieval.loaders.errors import CorpusFormatError
from paperbot.retrieval.loaders.sidecar import SIDECAR_SUFFIX

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".pdf"})
log = logging.getLogger(__name__)


def corpus_files(paths: Sequence[Path]) -> list[Path]:
    """Expand files and directories (recursively) into the supported corpus files, sorted.

    Sidecars (`*.meta.yaml`) and hidden files are skipped; a file named explicitly that is not
    a supported type is an error rather than silently ignored.
    """
    found: set[Path] = set()
    for given in map(Path, paths):
        if not given.exists():
            raise FileNotFoundError(f"corpus path does not exist: {given}")
        if given.is_file():
            if given.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise CorpusFormatError(
                    given, None,
                    f"unsupported file type {given.suffix or '(none)'!r}; "
                    f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}",
                )
            found.add(given)
            continue
        for candidate in given.rglob("*"):
            relative = candidate.relative_to(given)
            if any(part.startswith(".") for part in relative.parts) or not candidate.is_file():
                continue
            if candidate.name.endswith(SIDECAR_SUFFIX):
                continue
            if candidate.suffix.lower() in SUPPORTED_SUFFIXES:
                found.add(candidate)
            else:
                log.info("skipping %s: not a supported corpus file type", candidate)
    return sorted(found)
