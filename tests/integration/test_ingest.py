"""Incremental ingest into a real embedded Chroma: add, change, prune, crashes, embedder checks."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import time

import pytest
from llama_index.vector_stores.chroma import ChromaVectorStore

from paperbot.config import load_settings
from paperbot.retrieval.index import live_index
from paperbot.retrieval.index import store as store_module
from paperbot.retrieval.corpus.chunking import Chunker
from paperbot.retrieval.corpus.ingest import DuplicatePaperError
from paperbot.retrieval.library import Library
from paperbot.retrieval.index.store import ChunkingMismatchError, EmbedderMismatchError, IndexStore
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
    assert all(p.added is None for p in library.papers())  # a first ingest is the library as set up, not news


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


def test_prune_removes_papers_whose_file_is_gone(library, corpus, monkeypatch):
    library.ingest([corpus])
    monkeypatch.setattr("paperbot.retrieval.index.chroma_pages.PAGE", 2)  # the catalog read in pages, as a large one is
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
    monkeypatch.setattr("paperbot.retrieval.corpus.ingest._CHUNKS_PER_BATCH", 1)  # one paper per batch
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


def test_orphan_chunks_are_invisible_and_cleaned(library, corpus, monkeypatch):
    library.ingest([corpus])
    _write(corpus / "d.md", "Orphaned Attention", "Attention heads that lost their record. " * 20)

    def killed(*args, **kwargs):  # chunks written, the paper's record (the commit marker) never
        raise KeyboardInterrupt("killed half-way")

    monkeypatch.setattr(library.store._papers, "upsert", killed)
    with pytest.raises(KeyboardInterrupt):
        library.ingest([corpus])
    monkeypatch.undo()
    orphan_id = paper_id_for("d.md", "Orphaned Attention")
    assert orphan_id in {c.paper_id for c in library.store.chunks()}
    library.searcher.refresh()  # as before each question
    assert all(hit.paper.id != orphan_id for hit in library.searcher.search("attention heads lost record").hits)
    (corpus / "d.md").unlink()  # and the file is gone before the next run: its chunks must not linger
    report = library.ingest([corpus])
    assert report.unchanged == 3 and not report.added
    chunks = library.store.chunks()
    assert len(chunks) == len({c.id for c in chunks})
    assert {c.paper_id for c in chunks} == {p.id for p in library.papers()}


def test_a_record_removed_behind_the_change_log_is_caught_up_with_and_restored(library, corpus, monkeypatch):
    library.ingest([corpus])
    victim = library.papers()[0]
    library.store._papers.delete(ids=[victim.id])  # as if killed between chunks and record
    monkeypatch.setattr(live_index, "COUNT_CHECK_EVERY_S", 0.0)  # the paper count is compared now and then: now
    library.searcher.refresh()  # as before a question: it finds the write the log lacks
    assert victim.id not in library.searcher.index.papers
    assert all(hit.paper.id != victim.id for hit in library.searcher.search(victim.text[:200]).hits)
    report = library.ingest([corpus])
    assert report.added == [victim.id]
    chunks = library.store.chunks()
    assert len(chunks) == len({c.id for c in chunks})
    assert {c.paper_id for c in chunks} == {p.id for p in library.papers()}
    assert victim.id in {p.id for p in library.papers()}


def test_an_incremental_ingest_logs_the_papers_it_writes_and_readers_take_them_in(library, corpus):
    library.ingest([corpus])
    reader = Library(library.settings)
    reader.searcher.refresh()
    head = library.store.generation()
    _write(corpus / "b.md", "Contrastive Decoding Revisited", "Decoding now contrasts three quokka models. " * 60)
    _write(corpus / "c.md", "Tiny Recurrent Memories", "A small memory helps recurrence. " * 60)  # retitled
    report = library.ingest([corpus])
    b = paper_id_for("b.md", "Contrastive Decoding Revisited")
    old_c, new_c = paper_id_for("c.md", "Tiny Recurrent Memory"), paper_id_for("c.md", "Tiny Recurrent Memories")
    assert report.files_read == 2 and report.unchanged == 1 and report.removed == [old_c]  # a.md not even read
    logged = [pid for change in library.store.changes_since(head) for pid in change.paper_ids]
    assert sorted(logged) == sorted([b, new_c, old_c])
    assert sorted(reader.searcher.refresh()) == sorted([b, new_c, old_c])
    assert "quokka" in reader.searcher.index.papers[b].text
    assert new_c in reader.searcher.index.papers and old_c not in reader.searcher.index.papers


def test_a_write_killed_before_it_was_logged_is_logged_by_the_next_ingest(library, corpus, monkeypatch):
    library.ingest([corpus])
    reader = Library(library.settings)
    reader.searcher.refresh()
    _write(corpus / "b.md", "Contrastive Decoding Revisited", "Decoding now contrasts three quokka models. " * 60)

    def killed(*args, **kwargs):  # the paper's chunks and record written, its change not logged
        raise KeyboardInterrupt("killed half-way")

    monkeypatch.setattr(IndexStore, "_log_change", killed)
    with pytest.raises(KeyboardInterrupt):
        library.ingest([corpus])
    monkeypatch.undo()
    b = paper_id_for("b.md", "Contrastive Decoding Revisited")
    assert reader.searcher.refresh() == []  # no reader can know the paper changed
    report = library.ingest([corpus])
    assert report.unchanged == 3 and report.chunks_embedded == 0  # the write itself had finished
    assert reader.searcher.refresh() == [b]
    assert "quokka" in reader.searcher.index.papers[b].text


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


def test_chunks_quote_the_paper_verbatim_and_carry_its_metadata(shared_library):
    papers = {p.id: p for p in shared_library.papers()}
    chunks = shared_library.store.chunks()
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


def test_writes_larger_than_a_chroma_batch(library, monkeypatch):
    """Chroma refuses a write of more records than its max batch size (5,461 embedded), so the store
    splits its writes. Shown small: Chroma made to refuse batches over 40, the store's batch 16."""
    from chromadb.api.rust import RustBindingsAPI

    store = library.store
    assert store_module._BATCH <= store._client.get_max_batch_size()  # the real batch fits the real limit
    limit, written = 40, []

    def refusing_over_the_limit(write):
        def checked(self, *args, **kwargs):
            ids = kwargs["ids"] if "ids" in kwargs else args[0]
            if len(ids) > self.get_max_batch_size():  # what Chroma's engine does (in Rust, unpatchable)
                raise ValueError(f"Batch size of {len(ids)} is greater than max batch size of {limit}")
            written.append(len(ids))
            return write(self, *args, **kwargs)
        return checked

    monkeypatch.setattr(RustBindingsAPI, "get_max_batch_size", lambda self: limit)
    for name in ("_add", "_upsert", "_update"):
        monkeypatch.setattr(RustBindingsAPI, name, refusing_over_the_limit(getattr(RustBindingsAPI, name)))
    monkeypatch.setattr(store_module, "_BATCH", 16)
    rng = random.Random(3)
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
    assert sum(written) >= 4 * count and max(written) <= limit  # every record went through the checked writes


# -- skipping unchanged files, duplicates, identity, bad input --------------------------------


def test_unchanged_files_are_not_parsed_again(library, corpus, monkeypatch):
    library.ingest([corpus])
    with monkeypatch.context() as patched:
        patched.setattr("paperbot.retrieval.corpus.ingest.load_file",
                        lambda *a, **k: pytest.fail("an unchanged file was parsed again"))
        patched.setattr("paperbot.retrieval.index.chroma_pages.PAGE", 2)  # records read in pages, as a large index is
        again = Library(library.settings).ingest([corpus])  # another process: only the index remembers
    assert (again.files_read, again.unchanged, again.chunks_embedded) == (0, 3, 0)

    old_mtime = (corpus / "a.md").stat().st_mtime_ns
    os.utime(corpus / "a.md", ns=(old_mtime + 10**9, old_mtime + 10**9))  # touched: same content
    touched = library.ingest([corpus])
    assert (touched.files_read, touched.unchanged, touched.chunks_embedded) == (0, 3, 0)

    _write(corpus / "b.md", "Contrastive Decoding Revisited", "Now about amateur models only.")
    edited = library.ingest([corpus])
    assert edited.files_read == 1 and len(edited.updated) == 1 and edited.unchanged == 2


def test_a_rewrite_within_the_same_clock_tick_is_noticed(library, corpus):
    library.ingest([corpus])
    before = (corpus / "c.md").stat()
    text = (corpus / "c.md").read_text()
    (corpus / "c.md").write_text(text.replace("small memory", "tiny memory"))  # same size
    os.utime(corpus / "c.md", ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    report = library.ingest([corpus])
    assert report.files_read == 1 and len(report.updated) == 1
    assert "tiny memory" in next(p.text for p in library.papers() if p.title == "Tiny Recurrent Memory")


def test_a_changed_sidecar_rereads_its_file_and_a_retitled_paper_replaces_the_old_one(library, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "week1.txt").write_text("Routing tokens to two experts keeps compute flat.\n")
    sidecar = folder / "week1.meta.yaml"
    sidecar.write_text("papers:\n  - match: Routing tokens\n    title: Switch Transformers\n")
    library.ingest([folder])
    sidecar.write_text("papers:\n  - match: Routing tokens\n    title: Mixture of Experts Routing\n")
    report = library.ingest([folder])
    assert report.files_read == 1 and len(report.added) == 1 and len(report.removed) == 1
    assert [p.title for p in library.papers()] == ["Mixture of Experts Routing"]
    assert {c.paper_id for c in library.store.chunks()} == {p.id for p in library.papers()}


def test_duplicate_titles_in_one_run_index_the_first_file_and_name_the_second(library, corpus):
    _write(corpus / "d.md", "sparse mixtures of ADAPTERS!", "A second summary of the adapters paper.")
    report = library.ingest([corpus])
    assert len(report.added) == 3 and len(report.failed) == 1
    assert report.failed[0].startswith(f"{corpus / 'd.md'}:4: duplicate title “sparse mixtures of ADAPTERS!”")
    assert f"already indexed from {corpus / 'a.md'}:5;" in report.failed[0]  # line 5: a.md also sets a presenter
    adapters = [p for p in library.papers() if "adapters" in p.title.lower()]
    assert [p.path for p in adapters] == [str(corpus / "a.md")]
    again = library.ingest([corpus])  # still reported while both files hold the title
    assert again.failed == report.failed and len(library.papers()) == 3
    _write(corpus / "d.md", "Adapters, Revisited", "A second summary of the adapters paper.")
    fixed = library.ingest([corpus])
    assert not fixed.failed and fixed.added and len(library.papers()) == 4


def test_the_paper_already_indexed_wins_a_duplicate_title(library, corpus):
    library.ingest([corpus])
    _write(corpus / "0-first-in-path-order.md", "Tiny  recurrent memory", "Another take on small memories.")
    report = library.ingest([corpus])
    assert report.failed == [f"{corpus / '0-first-in-path-order.md'}:4: duplicate title “Tiny recurrent memory”: "
                             f"already indexed from {corpus / 'c.md'}:4; this one is not (change one title or "
                             "remove one file)"]
    assert next(p for p in library.papers() if p.title == "Tiny Recurrent Memory").path == str(corpus / "c.md")
    assert library.has_title("TINY recurrent-memory") and not library.has_title("Tiny Recurrent Memories")


def test_duplicate_lookups_find_papers_indexed_before_titles_were_keyed(library, corpus):
    library.ingest([corpus])
    store = library.store
    got = store._papers.get(include=["metadatas"])
    store._papers.update(ids=got["ids"], metadatas=[{**m, "title_key": "unkeyed"} for m in got["metadatas"]])
    _set_metadata_without(store, "title_keys")  # as an index written before the key existed
    fresh = Library(library.settings)
    assert fresh.has_title("contrastive decoding revisited")
    with pytest.raises(DuplicatePaperError):
        fresh.add_paper(Paper(id=paper_id_for("slack", "x"), title="Contrastive Decoding, Revisited",
                              text="Again.", source="slack"))


def _set_metadata_without(store, key):
    collection = store._client.get_collection(store._papers_name)
    kept = {k: v for k, v in (collection.metadata or {}).items() if k != key and not k.startswith("hnsw:")}
    collection.modify(metadata=kept)


def test_changed_chunking_is_refused_with_the_command_to_run(library, corpus):
    library.ingest([corpus])
    chunks_before = _chunk_ids(library)
    changed = Library(load_settings(data_dir=library.settings.data_dir, retrieval={"chunk_size": 300}))
    with pytest.raises(ChunkingMismatchError) as caught:
        changed.ingest([corpus])
    message = str(caught.value)
    assert "chunks of 200 tokens overlapping by 30" in message and "chunks of 300 tokens" in message
    assert "paperbot ingest --reindex" in message and "PAPERBOT_RETRIEVAL__CHUNK_SIZE" in message
    with pytest.raises(ChunkingMismatchError):
        changed.add_paper(Paper(id=paper_id_for("slack", "New"), title="New", text="New text.", source="slack"))
    assert _chunk_ids(library) == chunks_before  # nothing mixed in
    assert len(changed.papers()) == 3  # reading is not refused: the chunks are still valid answers
    changed.drop_index()
    rebuilt = changed.ingest([corpus])
    assert len(rebuilt.added) == 3 and rebuilt.files_read == 3  # the file records went with the index


def test_bad_files_are_named_and_everything_else_is_indexed(tmp_path, corpus):
    library = Library(load_settings(data_dir=tmp_path / "data", ingest={"max_paper_chars": 5000}))
    library.ingest([corpus])
    (corpus / "bad-date.md").write_text("---\ntitle: Leap Day\nadded: 2024-02-30\n---\nBody.\n")
    (corpus / "bad-type.md").write_text("---\ntitle: {x: y}\n---\nBody.\n")
    (corpus / "long.md").write_text("---\ntitle: Long\n---\n" + "Words upon words. " * 400 + "\n")
    with (corpus / "huge.txt").open("wb") as handle:
        handle.truncate(50_000_000)  # sparse: skipped on its size, never read
    _write(corpus / "b.md", "Contrastive Decoding Revisited", "---broken", added="[unclosed")  # was indexed
    _write(corpus / "e.md", "Elastic Weight Consolidation", "Penalise moving important weights.")
    report = library.ingest([corpus], prune=True)
    assert report.added == [paper_id_for("e.md", "Elastic Weight Consolidation")]
    assert sorted(problem.split(": ", 1)[0] for problem in report.failed) == sorted([
        f"{corpus / 'b.md'}:4", f"{corpus / 'bad-date.md'}:3", f"{corpus / 'bad-type.md'}:2",
        f"{corpus / 'huge.txt'}", f"{corpus / 'long.md'}:4"])
    by_file = {problem.split(":", 1)[0]: problem for problem in report.failed}
    assert "day is out of range" in by_file[str(corpus / "bad-date.md")]
    assert "`title` must be text" in by_file[str(corpus / "bad-type.md")]
    assert "skipped: too large (50.0 MB; the limit is 5 MB" in by_file[str(corpus / "huge.txt")]
    assert "skipped: too large (a summary of 7,200 characters; the limit is 5,000" in by_file[str(corpus / "long.md")]
    # Nothing lost: the paper of the file that broke is still there (even with --prune).
    assert {p.title for p in library.papers()} == {"Sparse Mixtures of Adapters", "Contrastive Decoding Revisited",
                                                   "Tiny Recurrent Memory", "Elastic Weight Consolidation"}


def test_a_clean_ingest_does_not_scan_the_index_for_leftovers(library, corpus, monkeypatch):
    library.ingest([corpus])
    monkeypatch.setattr(IndexStore, "_scan_and_clean", lambda self: pytest.fail("scanned without a reason"))
    assert library.ingest([corpus]).unchanged == 3


def test_an_index_made_before_file_records_is_scanned_once(library, corpus):
    library.ingest([corpus])
    victim = library.papers()[0]
    library.store._papers.delete(ids=[victim.id])  # leftovers of a crash from before write markers
    library.store._client.delete_collection(f"{library.settings.chroma.collection}_files")
    library.store.reopen()  # the collections as a process opening this index finds them
    report = Library(library.settings).ingest([corpus])
    assert report.added == [victim.id] and report.files_read == 3
    chunks = library.store.chunks()
    assert len(chunks) == len({c.id for c in chunks})
    assert {c.paper_id for c in chunks} == {p.id for p in library.papers()}


def test_a_running_writers_chunks_are_not_taken_for_leftovers(library, corpus):
    library.ingest([corpus])
    store = library.store
    chunker = Chunker(library.settings.retrieval)

    def chunks_without_record(title):  # what a writer half-way through adding a paper has written
        paper = Paper(id=paper_id_for("slack", title), title=title, text=f"{title} in a few words.", source="slack")
        nodes = chunker.nodes(paper)
        for node in nodes:
            node.embedding = library.embedder.get_text_embedding(node.text)
        store._vectors.add(nodes)
        return paper.id

    def marker(pid, paper_ids):
        store._files._collection.upsert(ids=[f"write:{pid}"], embeddings=[[0.0]], metadatas=[{
            "write_started": time.time(), "writer": json.dumps([socket.gethostname(), pid, paper_ids])}])

    running = chunks_without_record("Still Being Written")
    marker(os.getppid(), [running])  # a live process (our parent) is writing it right now
    crashed = chunks_without_record("Never Finished")
    gone = subprocess.Popen(["true"])  # its pid is free again once it has been waited for
    gone.wait()
    marker(gone.pid, [crashed])

    report = Library(library.settings).ingest([corpus])
    assert report.unchanged == 3
    left = {c.paper_id for c in store.chunks()}
    assert running in left and crashed not in left
    assert [m.id for m in store._files.unfinished_writes()] == [f"write:{os.getppid()}"]
