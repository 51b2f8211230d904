"""The saved index reads back as the index it was: every query answers the same, and the parts a
question may not use (`/paper` lookup's tables, the tables that correct a misspelt word) are
unpickled only when first needed, with the changes made before then applied in order."""

from __future__ import annotations

import pickle
from dataclasses import replace

from paperbot.retrieval.index import live_index
from paperbot.retrieval.index.corpus_index import CorpusIndex
from paperbot.retrieval.types import Chunk

from tests.integration.test_live_index import _shipped, _state


def _saved_and_read(index: CorpusIndex, tmp_path) -> CorpusIndex:
    path = tmp_path / "saved.pickle"
    path.write_bytes(pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL))
    return live_index._read_saved(path)


def test_a_saved_index_reads_back_answering_every_query_the_same(tmp_path):
    papers, chunks = _shipped()
    index = CorpusIndex(papers, chunks)
    expected = _state(index)
    read = _saved_and_read(index, tmp_path)
    assert not read._lookup.loaded
    assert _state(read) == expected
    assert read._lookup.loaded  # made for the lookups _state ran


def test_changes_before_the_first_lookup_wait_and_are_applied_in_order(tmp_path):
    papers, chunks = _shipped()
    first = papers[:40]
    read = _saved_and_read(CorpusIndex(first, [c for c in chunks if c.paper_id in {p.id for p in first}]), tmp_path)
    changed = replace(papers[3], title="Quokka Lattices", text=papers[3].text + " Quokka lattices forecast tides.")
    for paper in papers[40:]:  # as a new process catches up with the log, a paper a generation
        read.apply([paper], [c for c in chunks if c.paper_id == paper.id])
    read.apply([changed], [Chunk(f"{changed.id}#0", changed.id, changed.text, 0)], removed=[papers[7].id])
    assert not read._lookup.loaded  # a question's catch-up never unpickles lookup's tables

    final = [changed if p.id == changed.id else p for p in papers if p.id != papers[7].id]
    final_chunks = [c for c in chunks if c.paper_id not in {changed.id, papers[7].id}]
    final_chunks.append(Chunk(f"{changed.id}#0", changed.id, changed.text, 0))
    assert _state(read) == _state(CorpusIndex(final, final_chunks))
    assert read.lookup.find(read.papers, "quoka lattices")[0].paper.id == changed.id


def test_saving_again_keeps_an_unread_part_as_it_was_read(tmp_path, monkeypatch):
    papers, chunks = _shipped()
    read = _saved_and_read(CorpusIndex(papers, chunks), tmp_path)
    original = pickle.loads
    unpickled: list[int] = []
    monkeypatch.setattr(pickle, "loads", lambda data, **kw: unpickled.append(len(data)) or original(data, **kw))
    again = pickle.loads(pickle.dumps(read))
    assert len(unpickled) == 1 and not read._lookup.loaded  # only the outer pickle: the part's bytes copied
    assert again.lookup.find(again.papers, "refomer")[0].paper.title.startswith("Reformer")


def test_misspelling_tables_are_read_for_the_first_word_the_corpus_lacks(tmp_path):
    papers, chunks = _shipped()
    index = CorpusIndex(papers, chunks)
    read = _saved_and_read(index, tmp_path)
    assert read.correct_spelling("how does reformer hash attention") == "how does reformer hash attention"
    assert not read._typo_words.loaded and not read._joined.loaded
    for typed in ("refomer hashing", "batchnorm", "normaliz"):
        assert read.correct_spelling(typed) == index.correct_spelling(typed) != typed
    assert read._typo_words.loaded and read._joined.loaded
