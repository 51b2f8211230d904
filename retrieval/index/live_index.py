"""The in-memory corpus index of the store's newest generation, kept current through the change log.

A question first asks the store for the writes after this index's generation (one small query);
when there are some, only the papers they name are read again and applied in place, and the
Chroma client is made to see vectors another process wrote. The index is saved to the data
directory, keyed by the store's identity and generation, so a new process (`paperbot ask`, a new
replica) loads it and applies only what changed since, instead of reading the whole corpus.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import math
import os
import pickle
import re
import tempfile
import threading
import time
from pathlib import Path

from .corpus_index import CorpusIndex
from .locks import ReadWriteLock

log = logging.getLogger(__name__)

# Saved indexes are pickled objects: one saved by other code than this is ignored, never loaded.
# Paths under retrieval/; the path is hashed too, so a module that moves changes the version.
_PICKLED_MODULES = ("index/corpus_index", "index/deferred", "index/lexical", "questions/lookup", "questions/mentions",
                    "index/near_words", "index/word_table", "index/text_match", "types", "answering/source_lists")


def _code_version() -> str:
    digest = hashlib.sha1()
    for name in _PICKLED_MODULES:
        digest.update(name.encode())
        digest.update((Path(__file__).parent.parent / f"{name}.py").read_bytes())
    return digest.hexdigest()[:12]


FORMAT = _code_version()
SAVE_AFTER_CHANGED = 0.01  # save again once this share of the papers changed since the last save
# With nothing logged, a refresh counts the store's papers (a write the log lacks) at most this
# often: counting reads the whole collection, too slow for every question at scale.
COUNT_CHECK_EVERY_S = 60.0


class LiveIndex:
    def __init__(self, store, snapshot_dir: Path | None = None):
        self._store = store
        self._dir = snapshot_dir
        self._lock = ReadWriteLock()
        self._loading = threading.Lock()
        self._index: CorpusIndex | None = None
        self.generation = -1
        self._changed_since_save = 0
        self._counted_at = -math.inf  # when a refresh last compared the paper counts
        self.loaded_from: str = ""  # "snapshot" or "store": how the index was first built

    @property
    def index(self) -> CorpusIndex:
        if self._index is None:
            self._load()
        return self._index

    def reading(self):
        """Hold while answering: the index is not changed under a question."""
        return self._lock.reading()

    def refresh(self) -> list[str]:
        """Take in every write since this generation; returns the papers that changed (none: [])."""
        if self._index is None:
            self._load()
            return list(self._index.papers)
        changes = self._store.changes_since(self.generation)
        if not changes:
            now = time.monotonic()
            if now - self._counted_at < COUNT_CHECK_EVERY_S:
                return []
            self._counted_at = now
            if self._store.count_papers() == len(self._index.papers):
                return []
            with self._lock.writing():
                return self._reconcile()
        with self._lock.writing():
            changes = [c for c in changes if c.generation > self.generation]  # another thread may have applied them
            if changes:
                self._apply(changes)
        return list(dict.fromkeys(pid for change in changes for pid in change.paper_ids))

    # -- building ---------------------------------------------------------------------------

    def _load(self) -> None:
        with self._loading:
            if self._index is not None:
                return
            snapshot = self._newest_snapshot()
            if snapshot is not None:
                try:
                    index = _read_saved(snapshot[1])
                except Exception as exc:  # a damaged or foreign file: build from the store instead
                    log.warning("ignoring the saved index %s: %s", snapshot[1], exc)
                else:
                    self.generation, self._index, self.loaded_from = snapshot[0], index, "snapshot"
                    self._store.catch_up()
                    with self._lock.writing():
                        changes = self._store.changes_since(self.generation)
                        if changes:
                            self._apply(changes)
                    return
            self._rebuild()
            self.loaded_from = "store"

    def _rebuild(self) -> None:
        generation = self._store.generation()  # read first: a write during the read is applied again later
        papers = {p.id: p for p in self._store.papers()}
        chunks = [c for c in self._store.chunks() if c.paper_id in papers]
        self._index = None  # the old index goes before the new one is built
        self._index = CorpusIndex(papers.values(), chunks)
        self.generation = generation
        self._store.catch_up()
        self._save()

    def _apply(self, changes) -> None:
        ids = list(dict.fromkeys(pid for change in changes for pid in change.paper_ids))
        papers = self._store.papers_by_id(ids)  # records and texts: any client sees them at once
        present = {p.id for p in papers}
        self._index.apply(papers, self._store.chunks_of(papers), removed=[i for i in ids if i not in present])
        if len(self._index.papers) != self._store.count_papers():
            self._reconcile()
        self._store.catch_up(changes)  # vectors last: an embedded client re-opens to see another process's
        self.generation = changes[-1].generation
        self._changed_since_save += len(ids)
        if self._changed_since_save >= max(1, SAVE_AFTER_CHANGED * len(self._index.papers)):
            self._save()

    def _reconcile(self) -> list[str]:
        """Catch up with a write the log never recorded (a writer stopped between its data and its
        record): compare the paper ids, read the missing papers, drop the vanished ones."""
        stored = set(self._store.paper_ids())
        held = set(self._index.papers)
        log.warning("the index holds %d papers and the store %d: catching up with an unlogged write",
                    len(held), len(stored))
        missing = self._store.papers_by_id(sorted(stored - held))
        self._index.apply(missing, self._store.chunks_of(missing), removed=sorted(held - stored))
        self._store.reopen()  # whoever wrote it, its vectors too
        self._changed_since_save += len(missing) + len(held - stored)
        return [p.id for p in missing] + sorted(held - stored)

    def save(self) -> None:
        """Save the current generation now, if it is not yet saved."""
        if self._index is not None and self._changed_since_save:
            with self._lock.reading():
                self._save()

    def keep_saved(self) -> None:
        """After a write (`paperbot ingest`): save the index if none is saved or the saved one lags by
        many papers, so the next process starts warm. A few papers behind, it stays as it is: a
        process applies those from the log in less time than saving takes."""
        snapshot = self._newest_snapshot()
        if snapshot is not None:
            behind = {pid for change in self._store.changes_since(snapshot[0]) for pid in change.paper_ids}
            if len(behind) < SAVE_AFTER_CHANGED * max(self._store.count_papers(), 1):
                return
        self.refresh()  # a lagging index is saved as it catches up; a missing one as it is built
        self.save()

    # -- snapshots --------------------------------------------------------------------------

    def _prefix(self) -> str:
        return f"corpus-v{FORMAT}-" + re.sub(r"[^A-Za-z0-9]+", "", self._store.identity())[:64] + "-"

    def _newest_snapshot(self) -> tuple[int, Path] | None:
        if self._dir is None or not self._dir.is_dir():
            return None
        prefix = self._prefix()
        found = [(int(p.stem[len(prefix):]), p) for p in self._dir.glob(f"{prefix}*.pickle")
                 if p.stem[len(prefix):].isdigit()]
        head = self._store.generation()
        usable = [f for f in found if f[0] <= head]  # a newer one belongs to an index dropped and rebuilt
        return max(usable, default=None)

    def _save(self) -> None:
        self._changed_since_save = 0
        if self._dir is None:
            return
        if self._store.read_only:  # read from a copy: the data directory cannot take a saved index either
            log.debug("not saving the index to %s: %s", self._dir, self._store.read_only)
            return
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            prefix = self._prefix()
            path = self._dir / f"{prefix}{self.generation:012d}.pickle"
            with tempfile.NamedTemporaryFile(dir=self._dir, suffix=".tmp", delete=False) as stream:
                pickle.dump(self._index, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(stream.name, path)  # readers never see half a file
            for old in self._dir.glob("corpus-*.pickle"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError as exc:  # a read-only or full disk costs start-up time, nothing else
            log.warning("could not save the index to %s: %s", self._dir, exc)


def _read_saved(path: Path) -> CorpusIndex:
    # Unpickling makes millions of small objects: without the collector running every few
    # thousand of them (none of them is garbage yet), loading takes a fraction of the time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        with path.open("rb") as stream:
            return pickle.load(stream)
    finally:
        if enabled:
            gc.enable()


def drop_saved(snapshot_dir: Path) -> None:
    """Delete the saved indexes (the index itself was dropped): no process may load one."""
    for saved in snapshot_dir.glob("corpus-*.pickle"):
        saved.unlink(missing_ok=True)
