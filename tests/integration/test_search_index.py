"""Hybrid retrieval over the shipped-corpus index: diversification across papers, per-paper scores,
BM25 that follows the index, and lookup through the index's vectors."""

from __future__ import annotations

from collections import Counter

from paperbot.retrieval.types import Paper


def test_long_summary_cannot_crowd_out_other_papers(shared_library):
    searcher = shared_library.searcher
    cap = shared_library.settings.retrieval.max_chunks_per_paper
    result = searcher.search("Reformer locality sensitive hashing attention reversible layers", k=6)
    per_paper = Counter(hit.paper.id for hit in result.hits)
    assert result.hits[0].paper.title.startswith("Reformer")
    assert max(per_paper.values()) <= cap
    assert len(per_paper) >= 6 // cap
    # scores come best first, and every hit's paper has a per-paper score
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    assert all(hit.paper.id in result.paper_scores for hit in result.hits)


def test_per_paper_scores_rank_the_papers_of_a_topic(shared_library):
    result = shared_library.searcher.search("mixtures of experts")
    top = [shared_library.searcher.papers[p].title for p in result.ranked_papers()[:2]]
    assert {"Distributed Learning of Mixtures of Experts"} <= set(top)
    assert any("Mixture-of-Expert" in t for t in top)


def test_bm25_matches_word_forms_and_authors(shared_library):
    searcher = shared_library.searcher
    # "searching ... architectures" must reach "Neural Architecture Search" (stemming)
    result = searcher.search("searching architectures automatically")
    assert result.lexical_scores
    titles = [searcher.papers[p].title for p in result.ranked_papers()[:3]]
    assert any("Architecture Search" in t for t in titles)
    # authors are indexed with the text
    by_author = searcher.search("Kitaev Levskaya")
    assert by_author.hits[0].paper.title.startswith("Reformer")


def test_search_within_one_paper_returns_only_that_paper(shared_library):
    searcher = shared_library.searcher
    paper = next(p for p in searcher.papers.values() if p.title.startswith("Deep Sets"))
    result = searcher.search("completely unrelated words about cooking pasta", paper_id=paper.id)
    assert result.hits and {h.paper.id for h in result.hits} == {paper.id}


def test_lexical_index_follows_the_store_version(shipped_library):
    searcher = shipped_library.searcher
    assert "zorblaxian" not in searcher.vocabulary
    shipped_library.add_paper(Paper(
        id="zorblax-1", title="Zorblaxian Gradient Folding", source="pasted",
        text="We introduce zorblaxian gradient folding, which folds gradients along zorblaxian axes. "
             "It trains twice as fast as plain gradient descent on toy problems."))
    assert "zorblaxian" in searcher.vocabulary
    assert searcher.search("zorblaxian folding").hits[0].paper.title == "Zorblaxian Gradient Folding"


def test_topic_lookup_through_the_index(shared_library):
    hits = shared_library.lookup("semi-supervised pseudo-labeling with weak and strong augmentation")
    assert hits[0].paper.title.startswith("FixMatch")
