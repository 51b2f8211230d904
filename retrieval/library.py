"""The one object the CLI and the Slack bot use to reach the corpus.

It owns the index store, the embedder and the answerer, built lazily from settings so that
commands that need none of them (e.g. `paperbot --help`) start fast. Each method delegates to
the module that does the work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Settings
from .types import Answer, Paper, Progress, Turn

if TYPE_CHECKING:  # what callers of the library name in their own annotations
    from .corpus.arxiv import ArxivClient
    from datetime import tzinfo

    from .answering.digest import Digest, DigestPaper, DigestPeriod
    from .corpus.arxiv_add import ArxivAdd
    from .questions.lookup import LookupHit
    from .types import ArxivId

__all__ = ["ArxivAdd", "ArxivClient", "Digest", "DigestPaper", "DigestPeriod", "Library", "LookupHit", "describe_os_error",
           "digest_period", "has_lookup_words", "paper_from_text", "split_authors", "tldr"]


# -- small helpers about papers, for the Slack bot and the CLI (their modules load on first use) ----

def tldr(paper: Paper) -> str:
    """The paper's one-line TL;DR, taken (nearly) verbatim from its summary."""
    from .answering.tldr import tldr as one_line

    return one_line(paper)


def split_authors(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Authors given as a list, or as one string separated by commas / 'and'."""
    from .corpus.loaders.common import split_authors as split

    return split(value)


def paper_from_text(text: str, *, title: str, source: str, authors: Sequence[str] | str = (), presenter: str | None = None,
                    url: str | None = None, added: datetime | None = None, added_by: str | None = None) -> Paper:
    """A paper from a summary someone pasted (Slack's form); ValueError when text or title is empty."""
    from .corpus.loaders import paper_from_text as from_text

    return from_text(text, title=title, source=source, authors=authors, presenter=presenter, url=url, added=added,
                     added_by=added_by)


def digest_period(now: datetime, tz: tzinfo) -> DigestPeriod:
    """The digest's period (the ISO week in ``tz``) that ``now`` falls in."""
    from .answering.digest import DigestPeriod

    return DigestPeriod.of(now, tz)


def describe_os_error(error: OSError) -> str:
    """An OSError (the data directory read-only, not permitted, full …) as the short reason a person acts on."""
    from .corpus.data_dir import describe

    return describe(error)


def has_lookup_words(query: str) -> bool:
    """Whether a (typo'd) title, author or topic query has anything to look up once markup is gone."""
    from .questions.lookup import lookup_words
    from .questions.question_text import clean_question

    return bool(lookup_words(clean_question(query)))

log = logging.getLogger(__name__)

FOLLOW_EVERY_S = 2.0  # how often a server looks at the change log between questions
FOLLOW_WARM_PAPERS = 50  # at most this many changed papers get their sentences embedded ahead


class Library:
    def __init__(self, settings: Settings, *, for_writing: bool = False, writer: str = "paperbot"):
        self.settings = settings
        self.for_writing = for_writing  # an index that cannot be written is then an error at once, not read from a copy
        self.writer = writer  # names this process to other writers waiting for the index

    # -- components, built on first use ------------------------------------------------------

    @cached_property
    def embedder(self):
        from .index.embeddings import build_embedder

        return build_embedder(self.settings)

    @cached_property
    def store(self):
        from .index.embeddings import embedder_id
        from .index.store import IndexStore

        return IndexStore(self.settings, embedder_id(self.settings), for_writing=self.for_writing)

    @cached_property
    def searcher(self):
        from .index import word_rarity
        from .index.search import HybridSearcher

        word_rarity.use_table(self._cache_dir)
        return HybridSearcher(self.store, self.embedder, self.settings.retrieval, self._saved_index_dir)

    @cached_property
    def sentences(self):
        from .index.embeddings import embedder_id
        from .sentences.answer_match import AnswerMatcher
        from .sentences.kept_vectors import KeptVectors
        from .sentences.paper_sentences import SentenceIndex

        return SentenceIndex(self.embedder, AnswerMatcher(self._cache_dir),
                             KeptVectors(embedder_id(self.settings), self._cache_dir))

    @cached_property
    def decisions(self):
        from .questions.decisions import load_models
        from .index.embeddings import embedder_id

        return load_models(self.settings.data_dir, embedder_id(self.settings))

    @cached_property
    def answerer(self):
        from .llm.answerers import build_answerer

        return build_answerer(self.settings)

    @property
    def _indexer(self):
        from .corpus.ingest import Indexer

        return Indexer(self.store, self.embedder, self.settings)

    @cached_property
    def _writer_lock(self):
        """The embedded index's one-writer lock; None with a Chroma server, which takes several writers."""
        if self.settings.chroma.host:
            return None
        from .corpus.writer_lock import WriterLock

        return WriterLock(self.settings.data_dir, self.writer)

    @property
    def _saved_index_dir(self) -> Path:
        return self.settings.data_dir / "index"

    @property
    def _cache_dir(self) -> Path:
        """Derived from installed packages only (not from the corpus): one per user, for every index."""
        import platformdirs

        return Path(platformdirs.user_cache_dir("paperbot"))

    @property
    def pipeline(self):
        """Answering, made of this library's parts as they are now (a test or `eval --fit` may swap one)."""
        from .answering.pipeline import AnswerPipeline

        return AnswerPipeline(self.searcher, self.decisions, self.sentences, self.answerer,
                              deadline_s=self.settings.llm.deadline, max_question_chars=self.settings.max_question_chars)

    @property
    def streams_progress(self) -> bool:
        """Whether answering takes long enough (a language model) that its steps are worth showing."""
        return self.answerer.streams_progress

    # -- writing -----------------------------------------------------------------------------

    @contextmanager
    def writing(self, *, timeout_s: float | None = None, on_wait: Callable[[str], object] | None = None):
        """Hold the embedded index for writing: one writer at a time across processes (see
        ``writer_lock``). A writer that waited then sees what the one before it wrote, so nothing is
        embedded twice. ``timeout_s``: None waits as long as it takes, 0 not at all; then IndexBusy.
        Writers nest: the methods below take it themselves, a caller may hold it around several."""
        lock = self._writer_lock
        if lock is None or lock.held_here:
            yield
            return
        try:
            lock.acquire(timeout_s=timeout_s, on_wait=on_wait or log.warning)
        except OSError as exc:  # the lock file cannot be made: the data directory refuses writes
            raise self._unwritable(exc) from None
        try:
            if "store" in self.__dict__:
                self.store.catch_up()  # an open embedded client re-opens if another process wrote meanwhile
            yield
        finally:
            lock.release()

    def _unwritable(self, error: OSError):
        from .corpus.data_dir import Unwritable, describe, unwritable_reason, write_refused
        from .index.store import DataDirectoryError

        reason = unwritable_reason(self.settings.chroma_path)
        if reason is not None:  # said of the index itself, as a write to it would say it
            return DataDirectoryError(write_refused(self.settings.chroma_path, reason))
        return DataDirectoryError(write_refused(self.settings.data_dir, Unwritable(describe(error), "make it writable")))

    # -- corpus ------------------------------------------------------------------------------

    def ingest(self, paths: Sequence[Path] | None = None, *, prune: bool = False, progress: bool = False):
        from .index import word_rarity

        with self.writing():
            report = self._indexer.ingest(paths or [self.settings.corpus_dir], prune=prune, progress=progress)
            if report.papers_indexed or report.removed:
                self.searcher.live.keep_saved()  # so the next process starts warm
        word_rarity.save_table(self._cache_dir)  # once: questions then skip loading wordfreq's lists
        return report

    def papers(self) -> list[Paper]:
        """Every paper, in catalog order, from the in-memory index of the newest generation."""
        self.searcher.refresh()
        return list(self.searcher.index.papers.values())

    def catalog(self) -> list[Paper]:
        """Every paper's metadata, read without the summaries (``text`` is empty): for listings."""
        return self.store.catalog()

    def drop_index(self) -> None:
        """Delete the whole index, whatever embedder built it, its change log and the saved in-memory
        index (`paperbot ingest --reindex`)."""
        from .index.live_index import drop_saved
        from .index.store import drop_index

        with self.writing():
            drop_index(self.settings)
            drop_saved(self._saved_index_dir)
        for component in ("store", "searcher"):  # they hold the dropped collections
            self.__dict__.pop(component, None)

    # -- catalog: lookup, papers added from Slack, the weekly digest ---------------------------

    def paper(self, paper_id: str) -> Paper | None:
        self.searcher.refresh()
        return self.searcher.index.papers.get(paper_id)

    def lookup(self, query: str, *, limit: int = 5):
        """Papers matching a (typo'd) title, author, presenter or topic: list[LookupHit], best first."""
        from .questions.question_text import clean_question

        query = clean_question(query)  # a mention or a link's markup is not what is looked for
        searcher = self.searcher
        searcher.refresh()
        with searcher.reading():
            index = searcher.index
            return index.lookup.find(index.papers, query, limit=limit, nearest=self.nearest_paper_ids)

    def nearest_paper_ids(self, text: str, k: int) -> list[tuple[str, float]]:
        """The k papers whose embedding is closest to the text's: (paper id, cosine similarity)."""
        embedding = self.embedder.get_query_embedding(text)
        return [(paper.id, score) for paper, score in self.store.nearest_papers(embedding, k)]

    def has_title(self, title: str) -> bool:
        """Whether a paper with this title (case, accents, punctuation aside) is in the corpus: one indexed lookup."""
        return bool(self.store.papers_titled([title]))

    def paper_titled(self, title: str) -> Paper | None:
        """The paper with this title (case, accents, punctuation aside), metadata only (``text`` empty)."""
        from .index.text_match import title_key

        entries = self.store.papers_titled([title]).get(title_key(title))
        return self._catalog_paper(entries[0].id) if entries else None

    def paper_from_arxiv(self, arxiv_id: str) -> Paper | None:
        """The paper whose link is this arXiv id, any version (metadata only): a read of the catalog."""
        from .corpus.arxiv import arxiv_id_of

        return next((p for p in self.catalog() if arxiv_id_of(p.url) == arxiv_id), None)

    def _catalog_paper(self, paper_id: str) -> Paper | None:
        found = self.store.papers_by_id([paper_id])
        return found[0] if found else None

    def replace_paper(self, old_id: str, paper: Paper, *, wait_s: float | None = None) -> Paper:
        """Put ``paper`` in place of the paper ``old_id`` (its summary or title edited), keeping when
        and by whom it was added; DuplicatePaperError if the new title is another paper's."""
        from dataclasses import replace

        with self.writing(timeout_s=wait_s):
            old = self._catalog_paper(old_id)
            if old is not None:
                paper = replace(paper, added=old.added or paper.added, added_by=old.added_by or paper.added_by)
            replaced = self._indexer.replace_paper(old_id, paper)
        self.searcher.refresh()
        return replaced

    def add_paper(self, paper: Paper, *, wait_s: float | None = None) -> Paper:
        """Index one paper now (e.g. from Slack); raises DuplicatePaperError if it is already in, and
        IndexBusy if another writer still holds the index after ``wait_s`` seconds (None: no limit)."""
        with self.writing(timeout_s=wait_s):
            added = self._indexer.add_paper(paper)
        self.searcher.refresh()  # questions right after see it
        return added

    @staticmethod
    def arxiv_client(settings: Settings) -> ArxivClient:
        """An arXiv API client (a process keeps one: its requests are spaced as arXiv asks)."""
        from .corpus.arxiv import ArxivClient

        return ArxivClient.from_settings(settings)

    def add_from_arxiv(self, client: ArxivClient, arxiv_id: ArxivId, *, added_by: str | None = None,
                       presenter: str | None = None, wait_s: float | None = None) -> ArxivAdd:
        """Fetch the paper from arXiv and index it, unless the library has it (ArxivError, IndexBusy)."""
        from .corpus.arxiv_add import add_from_arxiv

        return add_from_arxiv(self, client, arxiv_id, added_by=added_by, presenter=presenter, wait_s=wait_s)

    @staticmethod
    def paper_from_pdf(data: bytes, name: str, *, max_file_bytes: int | None = None,
                       max_paper_chars: int | None = None) -> Paper:
        """The paper of a PDF's bytes (e.g. shared in Slack) named ``name``; CorpusFormatError when unreadable."""
        import io

        from .corpus.loaders import InputLimits
        from .corpus.loaders.pdf_file import paper_from_pdf

        limits = InputLimits(max_file_bytes=max_file_bytes, max_paper_chars=max_paper_chars)
        return paper_from_pdf(io.BytesIO(data), Path(name), limits)

    def digest(self, *, now, since=None, questions=(), featured=None):
        """The weekly digest's selection (retrieval.answering.digest.Digest) for the week of ``now``."""
        from zoneinfo import ZoneInfo

        from .answering.digest import select_digest

        return select_digest(
            self.papers(), now=now, tz=ZoneInfo(self.settings.digest.timezone),
            since=since, questions=questions, featured=featured,
        )

    def follow_changes(self, every_s: float = FOLLOW_EVERY_S) -> threading.Event:
        """Keep the in-memory index current in the background (for `paperbot serve`): papers any
        process adds are taken in, and their sentences embedded, before anyone asks about them.
        Set the returned event to stop."""
        stop = threading.Event()

        def follow() -> None:
            while not stop.wait(every_s):
                try:
                    changed = self.searcher.refresh()
                    papers = self.searcher.index.papers
                    warm = [papers[pid] for pid in changed[:FOLLOW_WARM_PAPERS] if pid in papers]
                    for paper in warm:
                        self.sentences.of(paper)
                    if warm:  # a re-opened embedded index loads its vectors on the first search: now
                        self.searcher.search(warm[0].title)
                except Exception:  # the next question refreshes (and reports) anyway
                    log.exception("following the index failed")

        threading.Thread(target=follow, name="paperbot-index-follower", daemon=True).start()
        return stop

    # -- questions ---------------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[Turn] = (), scope: Sequence[str] = ()) -> Answer:
        """Answer a question; ``scope`` (paper ids) when it is asked about those papers."""
        searcher = self.searcher
        searcher.refresh()  # the one look at the change log this question makes
        with searcher.reading():
            return self.pipeline.answer(question, history, scope)

    def is_question_for_bot(self, text: str) -> bool:
        """Whether a message is a question for the papers, not thanks or chatter: the fitted route."""
        from .answering.pipeline import understand
        from .questions.question_text import clean_question

        if not clean_question(text):
            return False
        route, _ = self.decisions.route(understand(self.searcher, text))
        return route != "chitchat"

    def ask_stream(self, question: str, history: Sequence[Turn] = (),
                   scope: Sequence[str] = ()) -> Iterator[Progress | Answer]:
        """Yield :class:`Progress` (what it is doing, never answer text), then the final, verified :class:`Answer`."""
        searcher = self.searcher
        searcher.refresh()
        with searcher.reading():
            yield from self.pipeline.stream(question, history, scope)
