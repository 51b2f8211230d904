"""Which files of the given paths make up the corpus."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from .errors import CorpusFormatError
from .sidecar import SIDECAR_SUFFIX

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
        # os.walk lists each directory once (no stat per entry), so 10,000 files take milliseconds.
        for folder, subfolders, names in os.walk(given):
            subfolders[:] = [d for d in subfolders if not d.startswith(".")]
            for name in names:
                if name.startswith(".") or name.endswith(SIDECAR_SUFFIX):
                    continue
                candidate = Path(folder, name)
                if os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES:
                    found.add(candidate)
                else:
                    log.info("skipping %s: not a supported corpus file type", candidate)
    return sorted(found)
