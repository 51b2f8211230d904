"""What a question costs does not grow with the collection: a warm question or lookup never counts
Chroma's collections, and the people and titles a text names are found once per index generation,
however many steps of a question and of its thread ask for them."""

from __future__ import annotations

from paperbot.retrieval.index import live_index
from paperbot.retrieval.corpus.ingest import Indexer
from paperbot.retrieval.questions.mentions import MentionIndex
from paperbot.retrieval.types import Paper, Turn, paper_id_for


def _count_calls(library, monkeypatch) -> list[str]:
    counted: list[str] = []
    collection = type(library.store._chunks)
    original = collection.count

    def count(self):
        counted.append(self.name)
        return original(self)

    monkeypatch.setattr(collection, "count", count)
    return counted


def test_a_warm_question_and_lookup_never_count_a_collection(shipped_library, monkeypatch):
    library = shipped_library
    library.ask("who wrote Reformer?")  # loads the index (and may count once, see below)
    library.lookup("reformer")
    counted = _count_calls(library, monkeypatch)
    answers = [library.ask(q) for q in ("who wrote Reformer?", "how does the lottery ticket hypothesis prune?")]
    hits = library.lookup("lotery ticket")
    assert all(a.citations for a in answers) and hits[0].paper.title.startswith("The Lottery Ticket")
    assert counted == []


def test_with_nothing_logged_the_paper_count_is_compared_now_and_then(shipped_library, monkeypatch):
    library = shipped_library
    library.searcher.refresh()
    counted = _count_calls(library, monkeypatch)
    monkeypatch.setattr(live_index, "COUNT_CHECK_EVERY_S", 0.0)
    assert library.searcher.refresh() == []
    assert len(counted) == 1  # due: a write the log lacks would be caught up with
    monkeypatch.setattr(live_index, "COUNT_CHECK_EVERY_S", 3600.0)
    assert library.searcher.refresh() == []
    assert len(counted) == 1  # checked a moment ago


def test_a_thread_finds_each_texts_mentions_once_per_generation(shipped_library, monkeypatch):
    library = shipped_library
    found: list[str] = []
    original = MentionIndex._find

    def find(self, text, papers):
        found.append(text)
        return original(self, text, papers)

    monkeypatch.setattr(MentionIndex, "_find", find)
    history: list[Turn] = []
    for question in ("who presented the lottery ticket paper?", "what did they prune?",
                     "what else did they present?"):
        answer = library.ask(question, history)
        history.append(Turn(question=question, answer=answer.answer, paper_ids=tuple(answer.paper_ids)))
    assert history[0].paper_ids and found
    assert len(found) == len(set(found)), found  # each text once, however many steps read it

    # A new paper is a new generation: the same text is read again, against the new catalog.
    paper = Paper(id=paper_id_for("slack", "Quokka Lattices"), title="Quokka Lattices", source="slack",
                  text="Quokka lattices predict coastal tides from satellite altimetry.", presenter="Hongbo Tian")
    Indexer(library.store, library.embedder, library.settings).add_paper(paper)
    before = len(found)
    assert library.ask("who presented the quokka lattices paper?").paper_ids == [paper.id]
    assert library.ask("who presented the quokka lattices paper?").paper_ids == [paper.id]
    assert found[before:] == ["who presented the quokka lattices paper?"]


def test_a_source_is_named_by_reading_only_the_sources_sharing_a_word_with_the_question(monkeypatch):
    from paperbot.retrieval.answering import source_lists
    from paperbot.retrieval.index.corpus_index import CorpusIndex

    papers = [Paper(id=f"n{i}", title=f"Note {i}", text="Quokka nets.", source=f"weekly-note-{i}.md") for i in range(2000)]
    papers += [Paper(id=f"s{i}", title=f"Short {i}", text="Wombat nets.", source="shortscience-summaries.txt")
               for i in range(3)]
    index = CorpusIndex(papers)
    read: list[str] = []
    original = source_lists.name_words

    def name_words(source):
        read.append(source)
        return original(source)

    monkeypatch.setattr(source_lists, "name_words", name_words)
    assert source_lists.named_source("what do we have from shortscience?", index.sources_by_word) == \
        "shortscience-summaries.txt"
    assert read == ["shortscience-summaries.txt"]
    index.apply([], [], removed=["s0", "s1", "s2"])
    assert source_lists.named_source("what do we have from shortscience?", index.sources_by_word) is None
    assert "shortscience" not in index.sources_by_word and len(index.sources_by_word["weekly"]) == 2000


def test_a_thread_check_and_its_answer_embed_and_search_the_message_once(shipped_library, monkeypatch):
    library = shipped_library
    library.ask("who wrote Reformer?")  # loads the model and the index
    embedded: list[str] = []
    searched: list[tuple] = []
    embed, query = type(library.embedder).get_query_embedding, type(library.store).query
    monkeypatch.setattr(type(library.embedder), "get_query_embedding",
                        lambda self, text: embedded.append(text) or embed(self, text))
    monkeypatch.setattr(type(library.store), "query",
                        lambda self, embedding, k: searched.append(tuple(embedding)) or query(self, embedding, k))
    message = "how does reformer make attention cheaper?"
    assert library.is_question_for_bot(message)  # what a Slack thread runs before answering
    plain = library.ask(message)
    assert embedded == [message] and len(searched) == len(set(searched)), (embedded, len(searched))

    # A new paper is a new generation: the nearest chunks are searched again and can be the new paper's.
    paper = Paper(id=paper_id_for("slack", "Quokka Lattices"), title="Quokka Lattices", source="slack",
                  text="Reformer-style attention makes quokka lattices cheaper to run on coastal tides.")
    library.add_paper(paper)
    before = len(searched)
    again = library.ask(message)
    assert len(searched) > before and embedded == [message]
    assert again.paper_ids[:1] == plain.paper_ids[:1]
