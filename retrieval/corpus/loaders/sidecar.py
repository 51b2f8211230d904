"""Metadata sidecars: `<stem>.meta.yaml` next to a corpus file adds what the file lacks.

    papers:
      - match: "This is follow-up work to the ResNets paper."   # verbatim start of the summary
        title: Identity Mappings in Deep Residual Networks
        authors: [Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun]
        url: https://arxiv.org/abs/1603.05027

Entries match papers by a prefix of their summary text (whitespace-insensitive), so the order
of the entries in the file does not matter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from .common import collapse, read_text
from .errors import CorpusFormatError
from .metadata import PaperMetadata, key_lines, parse_yaml, read_metadata
from ...types import Paper, paper_id_for

SIDECAR_SUFFIX = ".meta.yaml"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SidecarEntry:
    match: str  # whitespace-collapsed prefix of the summary text
    metadata: PaperMetadata
    line: int


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> list[SidecarEntry]:
    """The entries of a sidecar file (an empty list when the file does not exist)."""
    if not path.is_file():
        return []
    text = read_text(path)
    root, data = parse_yaml(text, path, first_line=1, what="sidecar")
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) != {"papers"} or not isinstance(data["papers"], list):
        raise CorpusFormatError(path, 1, "a sidecar holds one key, `papers`, with a list of entries")
    papers_node = next(value for key, value in root.value if key.value == "papers")
    entries = []
    for item, node in zip(data["papers"], papers_node.value):
        line = node.start_mark.line + 1
        if not isinstance(item, dict) or not isinstance(item.get("match"), str) or not item["match"].strip():
            raise CorpusFormatError(path, line, "each entry needs `match`: the verbatim start of a summary")
        metadata = read_metadata(item, path, line, key_lines(node, first_line=1), extra_keys=("match",))
        entries.append(SidecarEntry(collapse(item["match"]), metadata, line))
    return entries


def apply_sidecar(papers: list[Paper], entries: list[SidecarEntry], path: Path) -> list[Paper]:
    """Papers with each matching entry's metadata applied (ids follow a changed title)."""
    updated = list(papers)
    collapsed = [collapse(p.text) for p in papers]
    for entry in entries:
        hits = [i for i, text in enumerate(collapsed) if text.startswith(entry.match)]
        if len(hits) > 1:
            raise CorpusFormatError(path, entry.line, f"`match` fits {len(hits)} summaries; make it longer")
        if not hits:
            # A stale entry must not stop the ingest, but it must not go unnoticed either.
            log.warning("%s:%d: sidecar entry matches no summary: %r", path, entry.line, entry.match[:60])
            continue
        paper = updated[hits[0]]
        paper = replace(paper, **entry.metadata.overrides())
        updated[hits[0]] = replace(paper, id=paper_id_for(paper.source, paper.title))
    return updated
