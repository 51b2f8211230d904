"""Incremental ingest into a real embedded Chroma: add, change, prune, crashes, embedder checks."""

from __future__ import annotations

import random

import pytest
from llama_index.vector_stores.chroma import ChromaVectorStore

from paperbot.config import load_settings
from paperbot.retrieval.chunking import Chunker
from paperbot.retrieval.ingest import DuplicatePaperError
from paperbot.retrieval.library import Library
from paperbot.retrieval.store import EmbedderMismatchError, IndexStore
from paperbot.retrieval.types import Paper, paper_id_for


def _write(path, title, body, **front):
    meta = "".join(f"{k}: {v}\n" for k, v in front.items())
    path.write_text(f"---\ntitle: {title}\n{meta}---\n{body}\n")


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    _write(folder / "a.md", "Sparse Mixtures of Adapters", "We route tokens to adapters. " * 60, presenter="Ada")
    _write(folder / "b.md", "Contrastive Decoding Revisited", "Decoding contrasts two models. " * 60)
    _write(folder / "c.md", "Tiny Recurrent Memory", "A small memory helps recurrence. " * 60)
    return folder


@pytest.fixture
def library(tmp_path):
    return Library(load_settings(data_dir=tmp_path / "data"))


def _chunk_ids(library):
    return sorted(c.id for c in library.store.chunks())


def test_first_ingest_indexes_every_paper(library, corpus):
    report = library.ingest([corpus])
    assert len(report.added) == 3 and report.unchanged == 0
    assert {p.title for p in library.papers()} == {
        "Sparse Mixtures of Adapters", "Contrastive Decoding Revisited", "Tiny Recurrent Memory"}
    assert report.chunks_embedded == library.store.count_chunks() > 3
    assert all(p.added is not None for p in library.papers())


def test_unchanged_corpus_embeds_nothing_and_keeps_ids(library, corpus):
    library.ingest([corpus])
    ids_before, added_before = [p.id for p in library.papers()], [p.added for p in library.papers()]
    chunks_before = _chunk_ids(library)
    report = library.ingest([corpus])
    assert report.chunks_embedded == 0 and report.unchanged == 3 and not report.added
    assert [p.id for p in library.papers()] == ids_before
    assert [p.added for p in library.papers()] == added_before
    assert _chunk_ids(library) == chunks_before


def test_changed_paper_is_replaced_not_duplicated(library, corpus):
    library.ingest([corpus])
    _write(corpus / "b.md", "Contrastive Decoding Revisited", "Now about amateur models only. " * 3)
    report = library.ingest([corpus])
    assert len(report.updated) == 1 and report.unchanged == 2
    paper = next(p for p in library.papers() if p.title == "Contrastive Decoding Revisited")
    chunks = [c for c in library.store.chunks() if c.paper_id == paper.id]
    assert len(chunks) == 1 and "amateur models" in chunks[0].text
    assert all("Decoding contrasts" not in c.text for c in library.store.chunks())


def test_prune_removes_papers_whose_file_is_gone(library, corpus):
    library.ingest([corpus])
    (corpus / "c.md").unlink()
    assert len(library.ingest([corpus]).removed) == 0  # without --prune nothing is removed
    report = library.ingest([corpus], prune=True)
    assert len(report.removed) == 1
    assert "Tiny Recurrent Memory" not in {p.title for p in library.papers()}
    assert {c.paper_id for c in library.store.chunks()} == {p.id for p in library.papers()}


def test_prune_keeps_papers_of_a_file_that_failed_to_parse(library, corpus):
    library.ingest([corpus])
    (corpus / "c.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    report = library.ingest([corpus], prune=True)
    assert report.failed and "c.md" in report.failed[0]
    assert "Tiny Recurrent Memory" in {p.title for p in library.papers()}


def test_interrupted_ingest_recovers_on_rerun(library, corpus, monkeypatch):
    embedder = library.embedder
    real = type(embedder)._get_text_embeddings
    calls = {"n": 0}

    def dies_on_second_call(self, texts):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed half-way")
        return real(self, texts)

    monkeypatch.setattr(type(embedder), "_get_text_embeddings", dies_on_second_call)
    monkeypatch.setattr("paperbot.retrieval.ingest._CHUNKS_PER_BATCH", 1)  # one paper per batch
    with pytest.raises(KeyboardInterrupt):
        library.ingest([corpus])
    assert len(library.papers()) == 1  # only the paper whose batch finished is in the catalog
    monkeypatch.setattr(type(embedder), "_get_text_embeddings", real)

    report = library.ingest([corpus])
    assert len(report.added) == 2 and report.unchanged == 1
    papers = library.papers()
    assert len(papers) == 3
    chunks = library.store.chunks()
    assert len(chunks) == len({c.id for c in chunks})  # no duplicates
    assert {c.paper_id for c in chunks} == {p.id for p in papers}  # nothing missing, no orphans


def test_orphan_chunks_are_invisible_and_cleaned(library, corpus):
    library.ingest([corpus])
    victim = library.papers()[0]
    library.store._papers.delete(ids=[victim.id])  # as if killed between chunks and record
    library.searcher.refresh()  # as before each question: it finds the write the log lacks
    assert all(hit.paper.id != victim.id for hit in library.searcher.search(victim.text[:200]).hits)
    report = library.ingest([corpus])
    assert report.added == [victim.id]
    chunks = library.store.chunks()
    assert len(chunks) == len({c.id for c in chunks})
    assert {c.paper_id for c in chunks} == {p.id for p in library.papers()}


def test_other_embedder_is_refused_with_reindex_hint(library, corpus):
    library.ingest([corpus])
    with pytest.raises(EmbedderMismatchError, match="paperbot ingest --reindex"):
        IndexStore(library.settings, "openai:text-embedding-3-small")


def test_crash_while_replacing_a_changed_paper_is_repaired(library, corpus, monkeypatch):
    library.ingest([corpus])
    original = (corpus / "b.md").read_text()
    before = {c.id: c.text for c in library.store.chunks()}
    (corpus / "b.md").write_text(original.replace("Decoding contrasts", "Decoding compares"))

    def killed(self, nodes, **kwargs):  # old chunks already deleted, new ones never written
        raise KeyboardInterrupt("killed half-way")

    monkeypatch.setattr(ChromaVectorStore, "add", killed)
    with pytest.raises(KeyboardInterrupt):
        library.ingest([corpus])
    monkeypatch.undo()
    # The user reverts the edit: the record's hash matches again, yet its chunks are gone.
    (corpus / "b.md").write_text(original)
    report = library.ingest([corpus])
    assert len(report.updated) == 1 and report.unchanged == 2
    assert {c.id: c.text for c in library.store.chunks()} == before


def test_version_changes_with_content_only(library, corpus):
    empty = library.store.version()
    library.ingest([corpus])
    indexed = library.store.version()
    assert indexed != empty
    library.ingest([corpus])
    assert library.store.version() == indexed  # nothing changed: caches built on it stay valid
    _write(corpus / "a.md", "Sparse Mixtures of Adapters", "Routing, revised. " * 5)
    library.ingest([corpus])
    changed = library.store.version()
    assert changed != indexed
    (corpus / "a.md").unlink()
    library.ingest([corpus], prune=True)
    assert library.store.version() not in {changed, indexed}
    # Another process writing to the same index is noticed too.
    other = Library(library.settings)
    other.add_paper(Paper(id=paper_id_for("slack", "Late Paper"), title="Late Paper", text="Late text.",
                          source="slack"))
    assert library.store.version() != changed


def test_refused_embedder_leaves_the_index_as_it_was(library, corpus):
    library.ingest([corpus])
    for _ in range(2):  # a refused open must not re-label the collections
        with pytest.raises(EmbedderMismatchError, match="paperbot ingest --reindex"):
            IndexStore(library.settings, "openai:text-embedding-3-small")
    assert len(IndexStore(library.settings, library.store.embedder_id).papers()) == 3


def test_vectors_of_another_dimension_are_refused(library, corpus):
    library.ingest([corpus])
    with pytest.raises(EmbedderMismatchError, match="384 dimensions"):
        library.store.query([0.1] * 1536, 3)


def test_nearest_papers_and_query_rank_the_matching_paper_first(library, corpus):
    library.ingest([corpus])
    vector = library.embedder.get_query_embedding("routing tokens to adapters")
    best_paper, score = library.store.nearest_papers(vector, 2)[0]
    assert best_paper.title == "Sparse Mixtures of Adapters" and 0 < score <= 1
    hits = library.store.query(vector, 3)
    assert hits[0].chunk.paper_id == best_paper.id
    assert hits[0].score >= hits[-1].score


def test_chunks_quote_the_paper_verbatim_and_carry_its_metadata(shipped_library):
    papers = {p.id: p for p in shipped_library.papers()}
    chunks = shipped_library.store.chunks()
    assert {c.paper_id for c in chunks} == set(papers)
    for chunk in chunks:
        assert chunk.text in papers[chunk.paper_id].text
    one = next(iter(papers.values()))
    positions = sorted(c.position for c in chunks if c.paper_id == one.id)
    assert positions == list(range(len(positions)))


def test_add_paper_indexes_at_once_and_refuses_a_duplicate_title(library, corpus):
    library.ingest([corpus])
    paper = Paper(id=paper_id_for("slack", "Quantised Attention Kernels"), title="Quantised Attention Kernels",
                  text="We quantise attention kernels to four bits.", source="slack", added_by="U123")
    stored = library.add_paper(paper)
    assert stored.added is not None
    assert library.paper(paper.id).added_by == "U123"
    hits = library.store.query(library.embedder.get_query_embedding("four-bit attention kernels"), 1)
    assert hits[0].chunk.paper_id == paper.id
    with pytest.raises(DuplicatePaperError):
        library.add_paper(Paper(id=paper_id_for("slack", "x"), title="  quantised ATTENTION kernels",
                                text="Again.", source="slack"))


def test_writes_larger_than_a_chroma_batch(library):
    rng = random.Random(3)
    store = library.store
    count = store._client.get_max_batch_size() + 50
    chunker = Chunker(library.settings.retrieval)

    def items(version: str):
        out = []
        for i in range(count):
            paper = Paper(id=f"p{i}", title=f"Paper {i}", text=f"{version} text {i}.", source="bulk")
            nodes = chunker.nodes(paper)
            for node in nodes:
                node.embedding = [rng.random() for _ in range(8)]
            out.append((paper, nodes, nodes[0].embedding))
        return out

    store.upsert_papers(items("first"))
    assert store.count_chunks() == count and len(store.papers()) == count
    store.upsert_papers(items("second"))  # replacing them all goes through batched deletes
    chunks = store.chunks()
    assert len(chunks) == count and all(c.text.startswith("second") for c in chunks)
