"""Follow-ups resolve against the papers the previous answer cited."""

from __future__ import annotations

import pytest

from retrieval.conversation import resolve
from retrieval.types import Paper, Turn

PAPERS = {p.id: p for p in [
    Paper(id="r", title="Reformer: The Efficient Transformer", text="…", source="blog.txt"),
    Paper(id="d", title="Deep Sets", text="…", source="hf.txt"),
    Paper(id="m", title="MnasNet", text="…", source="ss.txt"),
]}
HISTORY = [Turn("which papers are about sets?", "…", ("d", "m", "r"))]


@pytest.mark.parametrize("question,expected", [
    ("who wrote it?", "d"),
    ("tell me more about that paper", "d"),
    ("tell me more about that", "d"),
    ("and the second one?", "m"),
    ("what about the 3rd paper?", "r"),
    ("and the second?", "m"),
    ("who presented the last one?", "r"),
])
def test_back_references_pick_the_right_paper(question, expected):
    resolved, paper = resolve(question, HISTORY, PAPERS)
    assert paper is PAPERS[expected]
    assert PAPERS[expected].title in resolved


def test_no_history_or_no_reference_leaves_the_question_alone():
    assert resolve("who wrote it?", [], PAPERS) == ("who wrote it?", None)
    assert resolve("what is batch normalization?", HISTORY, PAPERS) == ("what is batch normalization?", None)
    assert resolve("tell me about the fifth one", HISTORY, PAPERS)[1] is None  # only three were cited


def test_the_latest_turn_with_papers_counts():
    history = [Turn("q1", "a1", ("r",)), Turn("q2", "abstained", ())]
    assert resolve("who wrote it?", history, PAPERS)[1] is PAPERS["r"]


def test_follow_up_about_authors_is_answered_from_the_catalog(shipped_library):
    first = shipped_library.ask("What does the Reformer summary say about long texts?")
    turn = Turn(first.question, first.answer, tuple(c.paper_id for c in first.citations))
    follow_up = shipped_library.ask("who wrote it?", history=[turn])
    assert "Nikita Kitaev" in follow_up.answer
    assert follow_up.citations[0].snippet.startswith("Authors: Nikita Kitaev")


def test_ordinal_follow_up_answers_from_that_paper(shipped_library):
    first = shipped_library.ask("which entries mention Bloom filters?")
    assert len(first.citations) >= 2
    ids = tuple(c.paper_id for c in first.citations)
    follow_up = shipped_library.ask("tell me more about the second one", history=[Turn(first.question, first.answer, ids)])
    assert not follow_up.abstained
    assert {c.paper_id for c in follow_up.citations} == {ids[1]}
