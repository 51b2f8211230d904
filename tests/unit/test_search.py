"""Hybrid retrieval's parts: reciprocal-rank fusion and diversification across papers."""

from __future__ import annotations

from paperbot.retrieval.index.search import diversify, reciprocal_rank_fusion


def test_fusion_rewards_items_both_retrievers_found():
    dense = ["a", "b", "c"]
    lexical = ["c", "d", "a"]
    fused = reciprocal_rank_fusion([dense, lexical], k=60)
    assert fused["a"] == 1 / 61 + 1 / 63
    assert fused["c"] == 1 / 63 + 1 / 61
    assert fused["b"] == 1 / 62 and fused["d"] == 1 / 62
    # found by both beats found once, even at the top of one list
    assert min(fused["a"], fused["c"]) > max(fused["b"], fused["d"])


def test_fusion_constant_flattens_rank_differences():
    sharp = reciprocal_rank_fusion([["x", "y"]], k=1)
    flat = reciprocal_rank_fusion([["x", "y"]], k=1000)
    assert sharp["x"] / sharp["y"] > flat["x"] / flat["y"]


def test_diversify_caps_each_paper_and_keeps_order():
    ranked = ["p1-a", "p1-b", "p1-c", "p2-a", "p1-d", "p3-a", "p2-b", "p2-c"]
    chosen = diversify(ranked, lambda item: item.split("-")[0], per_group=2, limit=5)
    assert chosen == ["p1-a", "p1-b", "p2-a", "p3-a", "p2-b"]
