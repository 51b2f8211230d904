"""Paper lookup by typo'd title, author, presenter and topic, on the shipped corpus."""

from __future__ import annotations

import pytest

from paperbot.retrieval.corpus.loaders import corpus_files, load_file
from paperbot.retrieval.questions.lookup import lookup
from paperbot.retrieval.answering.tldr import tldr, tldr_of_text
from tests.conftest import SHIPPED_CORPUS


@pytest.fixture(scope="module")
def papers():
    return [paper for path in corpus_files([SHIPPED_CORPUS]) for paper in load_file(path)]


def _by_title(papers, prefix):
    (paper,) = [p for p in papers if p.title.startswith(prefix)]
    return paper


# (query, title prefix of the paper that must come first, what it matched on)
FIRST_HITS = [
    ("refomer", "Reformer: The Efficient", "title"),
    ("lotery ticket", "The Lottery Ticket Hypothesis", "title"),
    ("lottery tiket hypothesis", "The Lottery Ticket Hypothesis", "title"),
    ("fixmatch", "FixMatch", "title"),
    ("fix match", "FixMatch", "title"),
    ("pointrend", "PointRend", "title"),
    ("u2net", "U$^2$-Net", "title"),
    ("deep sets", "Deep Sets", "title"),
    ("batch normalisation", "Batch Normalization", "title"),
    ("mnasnet", "MnasNet", "title"),
    ("nerfies", "Nerfies", "title"),
    ("learned index structure", "The Case for Learned Index", "title"),
    ("byte pair encoding", "A Formal Perspective on Byte-Pair", "title"),
    ("zero buble pipeline", "Zero Bubble Pipeline", "title"),
    ("diferentiable sorting", "Fast Differentiable Sorting", "title"),
    ("frankle", "The Lottery Ticket Hypothesis", "author"),
    ("Michael Carbin", "The Lottery Ticket Hypothesis", "author"),
    ("kitaev", "Reformer: The Efficient", "author"),
    ("lukasz kaiser", "Reformer: The Efficient", "author"),
    ("szegedy", "Batch Normalization", "author"),
    ("tim kraska", "The Case for Learned Index", "author"),
    ("schrittwieser", "Mastering Atari", "author"),
    ("Blondell", "Fast Differentiable Sorting", "author"),
    ("daniel havir", "RangeNet++", "presenter"),
    ("havri", "RangeNet++", "presenter"),
    ("Chiao Lun Cheng", "Fast Differentiable Sorting", "presenter"),
    ("muzero", "Mastering Atari", "topic"),
    ("offline reinforcement learning", "Critic Regularized Regression", "topic"),
    ("pruning sparse subnetworks", "The Lottery Ticket Hypothesis", "topic"),
    ("speculative decoding draft models", "Multi-Draft Speculative Sampling", "topic"),
]


@pytest.mark.parametrize(("query", "title", "matched_on"), FIRST_HITS)
def test_lookup_puts_the_right_paper_first(papers, query, title, matched_on):
    hits = lookup(papers, query)
    assert hits, query
    assert hits[0].paper.title.startswith(title), [h.paper.title for h in hits]
    assert hits[0].matched_on == matched_on


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("Hongbo Tian", {"The Lottery Ticket Hypothesis", "Mastering Atari", "The Case for Learned Index"}),
        ("hongbo tain", {"The Lottery Ticket Hypothesis", "Mastering Atari", "The Case for Learned Index"}),
        ("felix lau", {"FixMatch", "PointRend"}),
        ("kaiming he", {"Identity Mappings in Deep Residual", "PointRend"}),
    ],
)
def test_a_person_with_several_papers_gets_all_of_them_first(papers, query, titles):
    hits = lookup(papers, query)
    top = hits[: len(titles)]
    assert {next(t for t in titles if h.paper.title.startswith(t)) for h in top} == titles
    assert all(h.matched_on in ("presenter", "author") for h in top)
    assert all(h.score < top[-1].score for h in hits[len(titles):])


def test_name_matches_rank_above_topic_matches(papers):
    hits = lookup(papers, "batch normalization", limit=5)
    assert hits[0].matched_on == "title"
    assert all(h.matched_on == "topic" and h.score < hits[0].score for h in hits[1:])


def test_nothing_to_look_up_finds_nothing(papers):
    assert lookup(papers, "") == []
    assert lookup(papers, "the of and") == []
    assert lookup([], "reformer") == []
    assert len(lookup(papers, "learning", limit=3)) == 3


def test_dense_neighbours_add_topic_matches_words_miss(papers):
    target = _by_title(papers, "Deep Sets")
    hits = lookup(papers, "permutation invariant functions", nearest=lambda q, k: [(target.id, 0.9)])
    assert hits[0].paper.id == target.id and hits[0].matched_on == "topic"


# -- TL;DR ----------------------------------------------------------------------------------


def test_tldr_skips_a_figure_caption_that_opens_the_summary(papers):
    assert tldr(_by_title(papers, "Fast Differentiable Sorting")) == (
        "Sorting and ranking are basic and common operations in computer science and machine learning."
    )
    assert tldr(_by_title(papers, "FixMatch")).startswith("The authors combine two common semi-supervised")
    assert tldr(_by_title(papers, "Mastering Atari")).startswith("Games like chess and Go")
    assert tldr(_by_title(papers, "Reformer")).startswith("Training good transformers")


def test_tldr_skips_labels_and_remarks_about_the_summary(papers):
    assert tldr(_by_title(papers, "A Preliminary Investigation of MLOps")).startswith("The rapid and growing")
    assert tldr(_by_title(papers, "Nerfies")).startswith("The idea of a NERF")


def test_tldr_is_verbatim_and_one_short_line(papers):
    for paper in papers:
        line = tldr(paper)
        assert "\n" not in line and 20 <= len(line) <= 200, paper.title
        assert line.rstrip("…") in " ".join(paper.text.split()), paper.title


def test_tldr_keeps_abbreviations_inside_the_sentence():
    text = "Smith et al. propose a sparse attention kernel for long inputs. It is fast."
    assert tldr_of_text(text) == "Smith et al. propose a sparse attention kernel for long inputs."
