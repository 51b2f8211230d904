"""Citations are verified by code: verbatim snippets only, dangling markers removed, numbered 1..k."""

from __future__ import annotations

import pytest

from paperbot.retrieval.llm.answerers.base import Evidence
from paperbot.retrieval.answering.citations import cite, is_verbatim, quoted_sentences, sentences
from paperbot.retrieval.types import Paper

PAPER_A = Paper(id="a", title="Paper A", source="a.txt",
                text="Alpha nets learn fast. They use\nwide layers with   skip connections. Results improve by 4% on ImageNet.")
PAPER_B = Paper(id="b", title="Paper B", source="b.txt", header="Paper B\nAuthors: Ann Lee Presenter:Bo Chan",
                text="Beta nets prune weights. Pruning keeps the accuracy unchanged.")


def _evidence():
    return [Evidence(1, PAPER_A, PAPER_A.text, 0.9), Evidence(2, PAPER_B, PAPER_B.text, 0.5)]


def test_snippets_are_verbatim_with_whitespace_collapsed():
    assert is_verbatim("They use wide layers with skip connections.", PAPER_A)
    assert is_verbatim("Alpha nets learn fast. … Results improve by 4% on ImageNet.", PAPER_A)
    assert is_verbatim("Authors: Ann Lee", PAPER_B)  # header lines are corpus text too
    assert not is_verbatim("Alpha nets learn very fast.", PAPER_A)
    assert not is_verbatim("Alpha nets learn fast. … Results improve by 5% on ImageNet.", PAPER_A)
    assert not is_verbatim("…", PAPER_A)


def test_invalid_snippet_is_rejected_and_its_marker_dropped():
    forged = Evidence(1, PAPER_A, "A sentence that is not in the corpus at all.", 1.0)
    text, citations = cite("Forged claim [1].", [forged])
    assert citations == []
    assert "[1]" not in text


def test_marker_pointing_at_nothing_is_removed():
    text, citations = cite("Alpha nets learn fast [1]. Gamma nets fly [7].", _evidence())
    assert text == "Alpha nets learn fast [1]. Gamma nets fly."
    assert [c.paper_id for c in citations] == ["a"]


def test_citations_are_numbered_by_relevance_and_markers_follow():
    # the answer cites the weaker evidence first; the best evidence still becomes [1]
    text, citations = cite("Pruning keeps accuracy [2]. Results improve by 4% [1].", _evidence())
    assert [(c.n, c.paper_id) for c in citations] == [(1, "a"), (2, "b")]
    assert text == "Pruning keeps accuracy [2]. Results improve by 4% [1]."
    assert citations[0].snippet == "Results improve by 4% on ImageNet."
    assert citations[1].snippet == "Pruning keeps the accuracy unchanged."


def test_only_used_evidence_is_cited_and_numbering_has_no_gaps():
    text, citations = cite("Beta nets prune weights [2].", _evidence())
    assert text == "Beta nets prune weights [1]."
    assert [(c.n, c.paper_id, c.title, c.source) for c in citations] == [(1, "b", "Paper B", "b.txt")]


def test_repeated_marker_is_collapsed():
    text, citations = cite("Alpha nets learn fast [1] [1].", _evidence())
    assert text == "Alpha nets learn fast [1]." and len(citations) == 1


@pytest.mark.parametrize("text,expected", [
    ("One whole sentence stands here. Another whole sentence follows it.",
     ["One whole sentence stands here.", "Another whole sentence follows it."]),
    ("A wrapped line\ncontinues right here. The next one starts now.",
     ["A wrapped line continues right here.", "The next one starts now."]),
    ("MuZero beats the model-free methods (e.g. Atari\ngames). Such a feat makes MuZero a pioneer.",
     ["MuZero beats the model-free methods (e.g. Atari games).", "Such a feat makes MuZero a pioneer."]),
])
def test_sentences_keep_verbatim_text_and_ignore_hard_wraps(text, expected):
    assert sentences(text) == expected


def test_a_checked_quote_becomes_the_snippet_as_the_sentences_that_hold_it():
    quotes = {1: ["wide layers with skip connections"], 2: ["“Pruning keeps the accuracy unchanged.”"]}
    text, citations = cite("Alpha nets are wide [1]. Pruning is free [2].", _evidence(), quotes)
    assert [c.snippet for c in citations] == ["They use wide layers with skip connections.",
                                              "Pruning keeps the accuracy unchanged."]
    # a quote spanning two sentences gives both, and only those
    _, citations = cite("Alpha [1].", _evidence(), {1: ["learn fast. They use wide"]})
    assert citations[0].snippet == "Alpha nets learn fast. They use wide layers with skip connections."
    # two claims quoting two places of one passage: both, apart
    _, citations = cite("Alpha [1]. Beta [1].", _evidence(), {1: ["Alpha nets learn fast.", "improve by 4%"]})
    assert citations[0].snippet == "Alpha nets learn fast. … Results improve by 4% on ImageNet."
    assert all(is_verbatim(c.snippet, PAPER_A) for c in citations)


def test_quoted_sentences_are_the_fewest_that_hold_the_quote():
    assert quoted_sentences(PAPER_A.text, "results improve by 4%") == ["Results improve by 4% on ImageNet."]
    assert quoted_sentences(PAPER_A.text, "Results improve by 5%") == []
    assert quoted_sentences(PAPER_A.text, "") == []
