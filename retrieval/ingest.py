"""Incremental ingest: load papers from files, embed what changed, keep the index consistent.

- An unchanged paper (same content hash) is not re-embedded.
- A changed paper has its chunks replaced; its record (the commit marker) is written last.
- An interrupted run leaves at worst chunks of a paper with no record (invisible to queries) or a
  record whose chunks were half replaced: the next run removes the former and re-indexes both.
- ``prune`` removes papers whose file is gone, but never those of a file that failed to parse.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from paperbot.retrieval.chunking import Chunker, embed_text, paper_vector
from paperbot.retrieval.loaders import CorpusFormatError, corpus_files, load_file
from paperbot.retrieval.types import Paper

if TYPE_CHECKING:
    from paperbot.retrieval.library import Library

log = logging.getLogger(__name__)

_CHUNKS_PER_BATCH = 128  # chunks embedded per call: big enough for throughput, small enough to show progress


class DuplicatePaperError(ValueError):
    """A paper with that title is already in the corpus."""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    chunks_embedded: int = 0
    failed: list[str] = field(default_factory=list)  # "file:line: message", one per file that failed
    seconds: float = 0.0

    @property
    def papers_indexed(self) -> int:
        return len(self.added) + len(self.updated)


def _load(files: Sequence[Path], report: IngestReport) -> tuple[list[Paper], set[str]]:
    papers: dict[str, Paper] = {}
    failed_paths: set[str] = set()
    for path in files:
        try:
            loaded = load_file(path)
        except (CorpusFormatError, OSError) as exc:
            report.failed.append(str(exc))
            failed_paths.add(str(Path(path).resolve()))
            continue
        for paper in loaded:
            if paper.id in papers:
                report.failed.append(f"{path}:{paper.line or 1}: duplicate of a paper in {papers[paper.id].path} "
                                     f"(same source name and title {paper.title!r})")
                continue
            papers[paper.id] = paper
    return list(papers.values()), failed_paths


def _within(path: str | None, roots: Sequence[Path]) -> bool:
    if not path:
        return False
    resolved = Path(path).resolve()
    return any(resolved == root or root in resolved.parents for root in roots)


def _index(library: Library, papers: list[Paper], progress: bool) -> int:
    """Embed and store papers in batches across papers; returns the number of chunks embedded."""
    chunker = Chunker(library.settings.retrieval)
    embedder = library.embedder
    embedded = 0
    bar = tqdm(total=len(papers), unit="paper", desc="Indexing", disable=not progress, leave=False)
    batch: list[tuple[Paper, list]] = []

    def flush() -> None:
        nonlocal embedded
        vectors = iter(embedder.get_text_embedding_batch([embed_text(n) for _, nodes in batch for n in nodes]))
        items = []
        for paper, nodes in batch:
            for node in nodes:
                node.embedding = next(vectors)
            items.append((paper, nodes, paper_vector([n.embedding for n in nodes])))
            embedded += len(nodes)
        library.store.upsert_papers(items)
        bar.update(len(batch))
        batch.clear()

    for paper in papers:
        batch.append((paper, chunker.nodes(paper)))
        if sum(len(nodes) for _, nodes in batch) >= _CHUNKS_PER_BATCH:
            flush()
    if batch:
        flush()
    bar.close()
    return embedded


def ingest(library: Library, paths: Sequence[Path], *, prune: bool = False, progress: bool = False) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    files = corpus_files(paths)
    store = library.store
    damaged = store.repair()  # what an interrupted run left behind
    existing = {p.id: p for p in store.papers()}
    papers, failed_paths = _load(files, report)

    now = datetime.now(UTC)
    to_index: list[Paper] = []
    for paper in papers:
        old = existing.get(paper.id)
        if old is not None and old.content_hash == paper.content_hash and paper.id not in damaged:
            report.unchanged += 1
            continue
        added = paper.added or (old.added if old else None) or now
        to_index.append(replace(paper, added=added, added_by=paper.added_by or (old.added_by if old else None)))
        (report.updated if old else report.added).append(paper.id)

    report.chunks_embedded = _index(library, to_index, progress)

    if prune:
        roots = [Path(p).resolve() for p in paths]
        seen = {p.id for p in papers}
        for paper_id, paper in existing.items():
            parsed = paper.path is not None and str(Path(paper.path).resolve()) not in failed_paths
            if paper_id not in seen and parsed and _within(paper.path, roots):
                store.delete_paper(paper_id)
                report.removed.append(paper_id)
    report.seconds = time.perf_counter() - started
    log.info("ingest: %d added, %d updated, %d unchanged, %d removed, %d chunks embedded in %.1fs",
             len(report.added), len(report.updated), report.unchanged, len(report.removed),
             report.chunks_embedded, report.seconds)
    return report


def _title_key(title: str) -> str:
    return " ".join(title.lower().split())


def add_paper(library: Library, paper: Paper) -> Paper:
    """Index one paper now (e.g. from Slack). Refuses a title already in the corpus."""
    key = _title_key(paper.title)
    for other in library.store.papers():
        if _title_key(other.title) == key or other.id == paper.id:
            raise DuplicatePaperError(f"“{other.title}” is already in the corpus")
    paper = paper if paper.added else paper.with_added()
    _index(library, [paper], progress=False)
    return paper
