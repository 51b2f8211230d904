"""Incremental ingest: load papers from files, embed what changed, keep the index consistent.

- An unchanged file (same size and modification time, else same content hash, as the index
  recorded it) is not even parsed; an unchanged paper (same content hash) is not re-embedded.
- A changed paper has its chunks replaced; its record (the commit marker) is written last, and a
  file is recorded as indexed only after all its papers are. A paper its file no longer holds
  (e.g. retitled) is removed once the file has been read again.
- Two papers with the same title (case, accents, punctuation aside): the one already in the index
  stays, and among new ones the first file in path order wins; the other is reported, not indexed.
- A file or summary over the input limits, or one that cannot be parsed, is reported with its
  file (and line); every other file is still ingested.
- An interrupted run leaves at worst chunks of a paper with no record (invisible to queries) or a
  record whose chunks were half replaced: the next run removes the former and re-indexes both.
- ``prune`` removes papers whose file is gone, but never those of a file that failed to parse.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from ..errors import DuplicatePaperError
from .chunking import chunking_identity
from .loaders import CorpusFormatError, InputLimits, corpus_files, load_file
from .loaders.limits import PAPER_SETTING, check_file_size
from .source_files import (
    FileState,
    content_sha256,
    file_state,
    record_for,
    unchanged_by_content,
    unchanged_by_stat,
)
from .file_records import FileRecord
from ..index.store import CatalogEntry
from ..index.text_match import title_key
from ..types import Paper

if TYPE_CHECKING:
    from ...config import Settings
    from ..index.store import IndexStore

log = logging.getLogger(__name__)

_CHUNKS_PER_BATCH = 128  # chunks embedded per call: big enough for throughput, small enough to show progress


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    chunks_embedded: int = 0
    failed: list[str] = field(default_factory=list)  # "file:line: message", one per problem
    files_read: int = 0  # files parsed; the others were unchanged since the index recorded them
    seconds: float = 0.0

    @property
    def papers_indexed(self) -> int:
        return len(self.added) + len(self.updated)


@dataclass
class _ReadFile:
    """A changed (or new) file, parsed."""

    state: FileState
    sha256: str
    read_at_ns: int
    papers: list[Paper]
    clean: bool = True  # every one of its papers is indexed (or unchanged): record the file


@dataclass
class _Scan:
    known: dict[str, FileRecord]  # what the index recorded of each file, by absolute path
    unchanged_ids: set[str] = field(default_factory=set)  # papers of files skipped as unchanged
    touched: list[FileRecord] = field(default_factory=list)  # unchanged content, new stat: record again
    read: list[_ReadFile] = field(default_factory=list)
    failed_paths: set[str] = field(default_factory=set)  # resolved


def _problem(path: Path, exc: Exception) -> str:
    if isinstance(exc, CorpusFormatError):
        return str(exc)
    return f"{path}: cannot be read: {getattr(exc, 'strerror', None) or exc}"


def _where(paper: Paper | CatalogEntry) -> str:
    if not paper.path:
        return "a paper added from Slack"
    return f"{paper.path}:{paper.line}" if paper.line else paper.path


def _within(path: str | None, roots: Sequence[Path]) -> bool:
    if not path:
        return False
    resolved = Path(path).resolve()
    return any(resolved == root or root in resolved.parents for root in roots)


class Indexer:
    """Puts papers into the index: whole corpus folders (`ingest`) or one paper at a time, with the
    store, the embedder and the settings it needs passed in by the composition root (`Library`), which
    also holds the one-writer lock around each call."""

    def __init__(self, store: "IndexStore", embedder, settings: "Settings"):
        self.store = store
        self.embedder = embedder
        self.settings = settings

    def ingest(self, paths: Sequence[Path], *, prune: bool = False, progress: bool = False) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        store = self.store
        store.require_writable()  # a read-only or full data directory: one line, before any work
        store.check_chunking(chunking_identity(self.settings.retrieval))
        files = corpus_files(paths)
        damaged = store.repair()  # what an interrupted run left behind
        store.ensure_title_keys()  # an index from before title keys: now, not in a Slack request
        scan = self._scan(files, damaged, report, progress)
        first_ingest = not scan.known and not store.paper_ids()
        report.unchanged += len(scan.unchanged_ids)
        removing = self._removals(paths, scan, prune)
        accepted = self._without_duplicate_titles(scan, removing, report)

        unchunked = self._index(self._to_index(accepted, damaged, report, first_ingest=first_ingest),
                           progress, report)
        accepted_ids = {paper.id for paper in accepted} - unchunked
        records = list(scan.touched)
        for read in scan.read:
            if read.clean and all(paper.id in accepted_ids for paper in read.papers):
                records.append(record_for(read.state, read.sha256, tuple(p.id for p in read.papers), read.read_at_ns))
        store.record_source_files(records)

        for paper_id in sorted(removing):
            store.delete_paper(paper_id)
            report.removed.append(paper_id)
        if prune:
            roots = [Path(p).resolve() for p in paths]
            present = {os.path.abspath(f) for f in files}
            store.forget_source_files([key for key in scan.known if key not in present and _within(key, roots)])
        report.seconds = time.perf_counter() - started
        log.debug("ingest: %d added, %d updated, %d unchanged, %d removed, %d chunks embedded, %d of %d files read in %.1fs",
                 len(report.added), len(report.updated), report.unchanged, len(report.removed),
                 report.chunks_embedded, report.files_read, len(files), report.seconds)
        return report

    def add_paper(self, paper: Paper) -> Paper:
        """Index one paper now (e.g. from Slack). Refuses a title already in the corpus."""
        store = self.store
        store.require_writable()
        store.check_chunking(chunking_identity(self.settings.retrieval))
        same = store.papers_titled([paper.title]).get(title_key(paper.title))
        if same:
            raise DuplicatePaperError(f"“{same[0].title}” is already in the corpus")
        paper = paper if paper.added else paper.with_added()
        self._index([paper], progress=False)
        return paper

    def replace_paper(self, old_id: str, paper: Paper) -> Paper:
        """Index ``paper`` in place of ``old_id`` (the same paper, edited). Refuses a title another paper has."""
        store = self.store
        store.require_writable()
        store.check_chunking(chunking_identity(self.settings.retrieval))
        others = [e for e in store.papers_titled([paper.title]).get(title_key(paper.title), []) if e.id != old_id]
        if others:
            raise DuplicatePaperError(f"“{others[0].title}” is already in the corpus")
        paper = paper if paper.added else paper.with_added()
        self._index([paper], progress=False)  # the new record first: the paper is never missing
        if paper.id != old_id:
            store.delete_paper(old_id)
        return paper

    def _limits(self) -> InputLimits:
        ingest_settings = self.settings.ingest
        return InputLimits(max_file_bytes=int(ingest_settings.max_file_mb * 1_000_000),
                           max_paper_chars=ingest_settings.max_paper_chars)

    def _scan(self, files: Sequence[Path], damaged: set[str], report: IngestReport, progress: bool) -> _Scan:
        """Which files changed (read and parsed) and which did not (skipped before parsing)."""
        store, limits = self.store, self._limits()
        scan = _Scan(known=store.source_files())
        known = scan.known
        present = store.paper_ids() - damaged if known else set()

        def complete(record: FileRecord) -> bool:  # all its papers are still there, none damaged
            return all(paper_id in present for paper_id in record.paper_ids)

        for path in tqdm(files, unit="file", desc="Reading", disable=not progress, leave=False):
            read_at = time.time_ns()
            try:
                state = file_state(path)
                record = known.get(state.key)
                if unchanged_by_stat(state, record) and complete(record):
                    scan.unchanged_ids.update(record.paper_ids)
                    continue
                check_file_size(path, state.size, limits)  # before a too-large file is read, even to hash it
                sha256 = content_sha256(path)
                if unchanged_by_content(sha256, record) and complete(record):
                    scan.unchanged_ids.update(record.paper_ids)
                    scan.touched.append(record_for(state, sha256, record.paper_ids, read_at))
                    continue
                papers = load_file(path, limits)
            except (CorpusFormatError, OSError) as exc:
                report.failed.append(_problem(path, exc))
                scan.failed_paths.add(str(Path(path).resolve()))
                continue
            report.files_read += 1
            scan.read.append(_ReadFile(state, sha256, read_at, papers))
        return scan

    def _without_duplicate_titles(self, scan: _Scan, removing: set[str], report: IngestReport) -> list[Paper]:
        """The read papers whose title no other paper has; the others are reported and their files not recorded.

        The paper already in the index wins (unless it is being removed in this run); among the
        papers read now, the first in file order wins.
        """
        candidates = [(read, paper) for read in scan.read for paper in read.papers]
        if not candidates:
            return []
        indexed = self.store.papers_titled(paper.title for _, paper in candidates)
        first_seen: dict[str, Paper] = {}
        accepted = []
        for read, paper in candidates:
            key = title_key(paper.title)
            earlier = first_seen.get(key)
            others = [e for e in indexed.get(key, []) if e.id != paper.id and e.id not in removing]
            winner = earlier or (others[0] if others else None)
            if winner is None:
                first_seen[key] = paper
                accepted.append(paper)
                continue
            report.failed.append(f"{_where(paper)}: duplicate title “{paper.title}”: already indexed from "
                                 f"{_where(winner)}; this one is not (change one title or remove one file)")
            read.clean = False
        return accepted

    def _removals(self, paths: Sequence[Path], scan: _Scan, prune: bool) -> set[str]:
        """Papers to remove: those a re-read file no longer holds, and with ``prune`` those whose file is gone."""
        now_read = {paper.id for read in scan.read for paper in read.papers}
        stale = {paper_id for read in scan.read if (record := scan.known.get(read.state.key))
                 for paper_id in record.paper_ids if paper_id not in now_read}
        if not prune:
            return stale
        roots = [Path(p).resolve() for p in paths]
        seen = now_read | scan.unchanged_ids
        gone = {
            entry.id for entry in self.store.catalog_entries().values()
            if entry.id not in seen and _within(entry.path, roots) and str(Path(entry.path).resolve()) not in scan.failed_paths
        }
        return stale | gone

    def _index(self, papers: list[Paper], progress: bool, report: IngestReport | None = None) -> set[str]:
        """Embed and store papers in batches across papers; returns the ids of papers that could not be chunked."""
        if not papers:
            return set()
        from .chunking import Chunker, embed_text, paper_vector

        chunker = Chunker(self.settings.retrieval)
        embedder = self.embedder
        failed: set[str] = set()
        bar = tqdm(total=len(papers), unit="paper", desc="Indexing", disable=not progress, leave=False)
        batch: list[tuple[Paper, list]] = []

        def flush() -> None:
            vectors = iter(embedder.get_text_embedding_batch([embed_text(n) for _, nodes in batch for n in nodes]))
            items = []
            for paper, nodes in batch:
                for node in nodes:
                    node.embedding = next(vectors)
                items.append((paper, nodes, paper_vector([n.embedding for n in nodes])))
                if report is not None:
                    report.chunks_embedded += len(nodes)
            self.store.upsert_papers(items)
            bar.update(len(batch))
            batch.clear()

        for paper in papers:
            try:
                nodes = chunker.nodes(paper)
            except TimeoutError as exc:  # NLTK's sentence splitter gives up on huge texts
                if report is None:
                    raise
                report.failed.append(f"{_where(paper)}: cannot be split into chunks in time ({exc}); "
                                     f"lower {PAPER_SETTING} to skip such summaries")
                failed.add(paper.id)
                bar.update(1)
                continue
            batch.append((paper, nodes))
            if sum(len(nodes) for _, nodes in batch) >= _CHUNKS_PER_BATCH:
                flush()
        if batch:
            flush()
        bar.close()
        return failed

    def _to_index(self, papers: list[Paper], damaged: set[str], report: IngestReport,
                  *, first_ingest: bool) -> list[Paper]:
        """The papers that are new or changed, with their `added` kept from the index.

        A paper new to the index was added now, unless its source says when, or unless this is the
        index's first ingest: those papers are the library as it was set up, not news (no `added`).
        A changed paper keeps the `added` it had.
        """
        existing = self.store.catalog_entries(p.id for p in papers)
        now = None if first_ingest else datetime.now(UTC)
        changed = []
        for paper in papers:
            old = existing.get(paper.id)
            if old is not None and old.content_hash == paper.content_hash and paper.id not in damaged:
                report.unchanged += 1
                continue
            added = paper.added or (old.added if old else now)
            changed.append(replace(paper, added=added, added_by=paper.added_by or (old.added_by if old else None)))
            (report.updated if old else report.added).append(paper.id)
        return changed
