"""The live index: readers follow the store's change log, apply only what changed, start warm from
a saved index, and a running Library sees papers another process adds (vectors included)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import bm25s
import pytest

from paperbot.config import load_settings
from paperbot.retrieval.corpus.chunking import Chunker
from paperbot.retrieval.index.corpus_index import CorpusIndex
from paperbot.retrieval.corpus.ingest import Indexer
from paperbot.retrieval.library import Library
from paperbot.retrieval.corpus.loaders import corpus_files, load_file
from paperbot.retrieval.questions.lookup import LookupIndex
from paperbot.retrieval.types import Chunk, Paper, paper_id_for

from tests.conftest import SHIPPED_CORPUS

NEW_PAPER = """---
title: Quokka Gradient Lattices for Tidal Forecasting
authors: [Imogen Thistlewood]
presenter: Bartholomew Quill
---
Quokka lattices predict coastal tides from satellite altimetry. The lattice reduced forecast error by 41 percent
against harmonic analysis on 30 harbours, while training in under an hour on one GPU.
"""
KEYWORD_QUESTION = "How much did quokka lattices reduce tidal forecast error?"
MEANING_QUESTION = "Which paper predicts ocean tides along the coast from satellite measurements?"
QUERIES = ["attention memory transformer", "refomer hashing", "batchnorm", "lottery ticket pruning",
           "semi-supervised pseudo-labeling", "quokka tides", "sorting differentiable", "cifar10 accuracy"]


def _shipped() -> tuple[list[Paper], list[Chunk]]:
    from paperbot.config.settings import RetrievalSettings

    papers = [p for path in corpus_files([SHIPPED_CORPUS]) for p in load_file(path)]
    chunker = Chunker(RetrievalSettings())
    chunks = [Chunk(n.node_id, p.id, n.get_content(), n.metadata["position"]) for p in papers for n in chunker.nodes(p)]
    return papers, chunks


def _new_paper_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "quokka.md"
    path.write_text(NEW_PAPER)
    return path


def _state(index: CorpusIndex) -> dict:
    """Everything a question reads from the index, for every query above."""
    papers = index.papers
    state = {"papers": list(papers), "vocabulary": sorted(index.vocabulary),
             "df": dict(sorted(index.document_frequency.items())), "chunks": {p: index.chunks_of[p] for p in papers}}
    for query in QUERIES:
        tokens = index.tokens(index.correct_spelling(query))
        mentions = index.mentions.find(query, papers)
        state[query] = {
            "spelling": index.correct_spelling(query),
            "papers": index.paper_bm25.top(tokens, 30),
            "chunks": index.chunk_bm25.top(tokens, 30),
            "mentions": (mentions.people, [p.id for p in mentions.papers], mentions.title_score),
            "lookup": [(h.paper.id, h.score, h.matched_on) for h in index.lookup.find(papers, query)],
        }
    return state


def test_incremental_updates_give_what_a_full_rebuild_gives():
    papers, chunks = _shipped()
    changed = replace(papers[5], text=papers[5].text + " Quokka lattices also forecast tides.",
                      presenter="Bartholomew Quill")
    removed = {papers[9].id, papers[40].id}
    final = [changed if p.id == changed.id else p for p in papers if p.id not in removed]
    final_chunks = [c for c in chunks if c.paper_id not in removed and c.paper_id != changed.id]
    final_chunks += [Chunk(f"{changed.id}#0", changed.id, changed.text, 0)]

    live = CorpusIndex(papers[:30], [c for c in chunks if c.paper_id in {p.id for p in papers[:30]}])
    for paper in papers[30:]:  # one paper a generation, as Slack adds them
        live.apply([paper], [c for c in chunks if c.paper_id == paper.id])
    live.apply([changed], [Chunk(f"{changed.id}#0", changed.id, changed.text, 0)], removed=sorted(removed))

    assert _state(live) == _state(CorpusIndex(final, final_chunks))
    assert changed.id in dict(live.paper_bm25.top(live.tokens("quokka tides"), 5))


def test_bm25_scores_are_bm25s_scores():
    papers, _ = _shipped()
    index = CorpusIndex(papers)
    texts = [index.paper_text(p) for p in index.papers.values()]
    reference = bm25s.BM25()
    reference.index([index.tokens(t) for t in texts], show_progress=False)
    for query in QUERIES:
        tokens = index.tokens(query)
        expected = reference.get_scores(tokens) if tokens else []
        got = index.paper_bm25.scores(tokens)
        assert list(got) == list(expected) or not tokens


def test_lookup_index_follows_changes(tmp_path):
    papers, _ = _shipped()
    index = LookupIndex()
    for paper in papers:
        index.add(paper)
    by_id = {p.id: p for p in papers}
    assert index.find(by_id, "reformer")[0].paper.title.startswith("Reformer")
    reformer = next(p for p in papers if p.title.startswith("Reformer"))
    index.remove(reformer)
    del by_id[reformer.id]
    assert all(h.paper.id != reformer.id for h in index.find(by_id, "reformer"))


def test_saved_index_is_loaded_when_nothing_changed_and_updated_when_something_did(shipped_data_dir, monkeypatch):
    settings = load_settings(data_dir=shipped_data_dir, corpus_dir=SHIPPED_CORPUS)
    first = Library(settings)
    with monkeypatch.context() as patched:
        patched.setattr(type(first.store), "papers", lambda self: pytest.fail("the whole corpus was read"))
        patched.setattr(type(first.store), "chunks", lambda self: pytest.fail("every chunk was read"))
        assert first.ask("who wrote Reformer?").citations
    assert first.searcher.live.loaded_from == "snapshot"  # `paperbot ingest` saved it

    # A write that no reader has seen yet: logged in the store, not in the saved index.
    writer = Library(settings)
    paper = Paper(id=paper_id_for("slack", "Quokka Lattices"), title="Quokka Lattices", source="slack",
                  text="Quokka lattices predict coastal tides from satellite altimetry.")
    Indexer(writer.store, writer.embedder, writer.settings).add_paper(paper)

    reader = Library(settings)
    monkeypatch.setattr(type(reader.store), "papers", lambda self: pytest.fail("the whole corpus was read again"))
    monkeypatch.setattr(type(reader.store), "chunks", lambda self: pytest.fail("every chunk was read again"))
    assert paper.id in [p.id for p in reader.papers()]
    assert reader.searcher.live.loaded_from == "snapshot"
    assert reader.searcher.live.generation == reader.store.generation()
    monkeypatch.undo()

    # The index is saved again at the new generation: the next process loads it as it is.
    reader.searcher.live.save()
    saved = sorted((shipped_data_dir / "index").glob("corpus-*.pickle"))
    assert len(saved) == 1 and saved[0].stem.endswith(f"{reader.store.generation():012d}")


@pytest.mark.slow
def test_a_running_library_answers_about_a_paper_another_process_adds(shipped_library, shipped_data_dir, tmp_path):
    library = shipped_library
    before = library.ask(KEYWORD_QUESTION)
    assert not any(c.title.startswith("Quokka") for c in before.citations)

    folder = tmp_path / "new"
    _new_paper_file(folder)
    env = dict(os.environ, PAPERBOT_DATA_DIR=str(shipped_data_dir))
    done = subprocess.run([sys.executable, "-m", "paperbot.bot.cli", "ingest", "-q", str(folder)], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    answer = library.ask(KEYWORD_QUESTION)
    assert answer.citations and answer.citations[0].title.startswith("Quokka"), answer.answer
    assert "41 percent" in answer.answer
    # No word in common with the paper: only its vectors, written by the other process, find it.
    found = library.searcher.search(MEANING_QUESTION)
    new_id = next(p.id for p in library.papers() if p.title.startswith("Quokka"))
    assert max(found.dense_scores, key=found.dense_scores.get) == new_id
    assert library.lookup("thistlewood")[0].paper.id == new_id

    # Then this process writes too: its own paper and the other process's are both found.
    own = library.add_paper(Paper(id=paper_id_for("slack", "Wombat Burrow Acoustics"), title="Wombat Burrow Acoustics",
                                  source="slack", text="Wombat burrows amplify low-frequency calls by 12 decibels."))
    assert library.ask("How much do wombat burrows amplify calls?").citations[0].paper_id == own.id
    found = library.searcher.search(MEANING_QUESTION)
    assert max(found.dense_scores, key=found.dense_scores.get) == new_id


def test_generations_are_unique_and_ordered_across_writers(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data")
    stores = [Library(settings).store for _ in range(3)]
    errors: list[BaseException] = []

    def write(store, n):
        try:
            for i in range(4):
                paper = Paper(id=f"p{n}-{i}", title=f"Paper {n} {i}", text="Some text.", source="test")
                store.upsert_papers([(paper, [], [0.1] * 384)])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(store, n)) for n, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    changes = stores[0].changes_since(0)
    assert [c.generation for c in changes] == list(range(1, 13))
    assert sorted(pid for c in changes for pid in c.paper_ids) == sorted(f"p{n}-{i}" for n in range(3) for i in range(4))
    assert stores[1].changes_since(10) == changes[10:]


def test_catalog_lists_papers_without_their_summaries(shared_library, monkeypatch):
    monkeypatch.setattr("paperbot.retrieval.index.chroma_pages.PAGE", 7)  # read in pages, as a large index is
    catalog = shared_library.catalog()
    papers = shared_library.papers()
    assert [(p.id, p.title, p.authors, p.presenter, p.added) for p in catalog] == \
        [(p.id, p.title, p.authors, p.presenter, p.added) for p in papers]
    assert all(p.text == "" for p in catalog)


def test_a_server_takes_in_a_new_paper_before_anyone_asks(shipped_library, shipped_data_dir, tmp_path):
    library = shipped_library
    library.searcher.refresh()
    stop = library.follow_changes(every_s=0.1)
    try:
        env = dict(os.environ, PAPERBOT_DATA_DIR=str(shipped_data_dir))
        done = subprocess.run([sys.executable, "-m", "paperbot.bot.cli", "ingest", "-q",
                               str(_new_paper_file(tmp_path / "new").parent)], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        head = library.store.generation()
        deadline = time.monotonic() + 60
        while library.searcher.live.generation < head and time.monotonic() < deadline:
            time.sleep(0.1)
        assert library.searcher.live.generation == head
        assert library.searcher.refresh() == []  # nothing left for the question to do
        answer = library.ask(KEYWORD_QUESTION)
        assert answer.citations and answer.citations[0].title.startswith("Quokka"), answer.answer
    finally:
        stop.set()


def test_the_index_counts_papers_by_source_as_they_come_and_go():
    from paperbot.retrieval.index.corpus_index import CorpusIndex
    from paperbot.retrieval.types import Paper

    a = Paper(id="a", title="Alpha", text="Alpha nets learn fast.", source="blog.txt")
    b = Paper(id="b", title="Beta", text="Beta nets prune weights.", source="blog.txt")
    c = Paper(id="c", title="Gamma", text="Gamma nets sort lists.", source="notes.md")
    index = CorpusIndex([a, b, c])
    assert dict(index.source_counts) == {"blog.txt": 2, "notes.md": 1}
    index.apply([], [], removed=["c", "a"])
    assert dict(index.source_counts) == {"blog.txt": 1}
    index.apply([b], [])  # a changed paper replaces itself
    assert dict(index.source_counts) == {"blog.txt": 1}
