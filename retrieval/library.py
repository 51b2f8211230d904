"""The one object the CLI and the Slack bot use to reach the corpus.

It owns the index store, the embedder and the answerer, built lazily from settings so that
commands that need none of them (e.g. `paperbot --help`) start fast. Each method delegates to
the module that does the work.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path

from config import Settings
from retrieval.types import Answer, Paper, Turn


class Library:
    def __init__(self, settings: Settings):
        self.settings = settings

    # -- components, built on first use ------------------------------------------------------

    @cached_property
    def embedder(self):
        from retrieval.embeddings import build_embedder

        return build_embedder(self.settings)

    @cached_property
    def store(self):
        from retrieval.embeddings import embedder_id
        from retrieval.store import IndexStore

        return IndexStore(self.settings, embedder_id(self.settings))

    @cached_property
    def searcher(self):
        from retrieval.search import HybridSearcher

        return HybridSearcher(self.store, self.embedder, self.settings.retrieval)

    @cached_property
    def answerer(self):
        from retrieval.answerers import build_answerer

        return build_answerer(self.settings)

    # -- corpus ------------------------------------------------------------------------------

    def ingest(self, paths: Sequence[Path] | None = None, *, prune: bool = False, progress: bool = False):
        from retrieval.ingest import ingest

        return ingest(self, paths or [self.settings.corpus_dir], prune=prune, progress=progress)

    def papers(self) -> list[Paper]:
        return self.store.papers()

    # -- questions ---------------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        from retrieval.answering import answer_question

        return answer_question(self, question, history)

    def ask_stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        """Yield text deltas as the answerer writes them, then the final, verified :class:`Answer`."""
        from retrieval.answering import stream_answer

        return stream_answer(self, question, history)
