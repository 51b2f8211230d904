"""Claim support: a statement stays only if the passage it cites states it (model quote + code check)."""

from __future__ import annotations

import time

import pytest

from paperbot.retrieval.llm.answerers.base import AnswererUnavailable, Evidence
from paperbot.retrieval.llm.claims import check_claims, quote_supports, statements
from paperbot.retrieval.llm.deadline import Deadline, DeadlineExceeded
from paperbot.retrieval.types import Paper

RESNET = Paper(id="r", title="ResNet", source="a.txt",
               text="ResNets add identity shortcut connections. Very deep networks then train well. "
                    "The model won ImageNet 2015 with a 3.57% top-5 error.")
DROPOUT = Paper(id="d", title="Dropout", source="b.txt",
                text="Dropout randomly drops units during training. This prevents co-adaptation of features.")
EVIDENCE = [Evidence(1, RESNET, RESNET.text, 0.9), Evidence(2, DROPOUT, DROPOUT.text, 0.5)]


class Verifier:
    """Answers claim checks from a table (claim -> quote, or None for "not supported"); records every call."""

    def __init__(self, table: dict[str, str | None], error: Exception | None = None, delay_s: float = 0.0):
        self.table, self.error, self.delay_s = table, error, delay_s
        self.calls: list[tuple[str, str]] = []

    def __call__(self, claim: str, passage: str, *, deadline: Deadline) -> str | None:
        self.calls.append((claim, passage))
        time.sleep(self.delay_s)
        if self.error:
            raise self.error
        return self.table.get(claim)


def test_statements_split_sentences_lines_and_marker_lists():
    found, bullets = statements("Two papers fit:\n- ResNets add shortcuts [1]. They train deep nets [1, 2].\n"
                                "- Dropout drops units (e.g. Fig. 2 shows it) [2]")
    assert [(s.line, s.claim, s.markers) for s in found] == [
        (0, "Two papers fit:", ()),
        (1, "ResNets add shortcuts.", (1,)),
        (1, "They train deep nets.", (1, 2)),
        (2, "Dropout drops units (e.g. Fig. 2 shows it)", (2,)),
    ]
    assert bullets == {1: "- ", 2: "- "}
    short, _ = statements("ResNets add shortcuts [1]. It is fast [9].")  # a short sentence is still one
    assert [(s.claim, s.markers) for s in short] == [("ResNets add shortcuts.", (1,)), ("It is fast.", (9,))]


@pytest.mark.parametrize("claim, quote, supported", [
    ("ResNets add shortcut connections", "ResNets add identity shortcut connections.", True),
    ("ResNets add shortcut connections", "resnets add identity shortcut connections", True),  # case, no period
    ("ResNets add shortcut connections", "“ResNets add identity shortcut connections.”", True),  # quoted
    # a made-up quote, however close to the claim, is not in the passage
    ("ResNets won ImageNet 2016", "ResNets won ImageNet 2016.", False),
    # a real sentence of the passage that says something else
    ("ResNets were invented by aliens", "Very deep networks then train well.", False),
    # shares one word only
    ("ResNets need lots of memory", "ResNets add identity shortcut connections.", False),
    ("ResNets add shortcut connections", "", False),
])
def test_code_check_needs_the_quote_in_the_passage_and_the_claims_words(claim, quote, supported):
    assert quote_supports(claim, quote, RESNET.text) is supported


def test_each_claim_is_checked_against_only_the_passage_it_cites():
    verifier = Verifier({
        "ResNets add identity shortcuts.": "ResNets add identity shortcut connections.",
        "Dropout drops units while training.": "Dropout randomly drops units during training.",
    })
    result = check_claims("ResNets add identity shortcuts [1]. Dropout drops units while training [2].",
                          EVIDENCE, verifier, Deadline(5))
    assert sorted(verifier.calls) == [("Dropout drops units while training.", DROPOUT.text),
                                      ("ResNets add identity shortcuts.", RESNET.text)]
    assert result.text == "ResNets add identity shortcuts [1]. Dropout drops units while training [2]."
    assert result.quotes == {1: ["ResNets add identity shortcut connections."],
                             2: ["Dropout randomly drops units during training."]}
    assert (result.dropped, result.checked) == (0, 2)


def test_unsupported_statements_and_markers_are_dropped():
    verifier = Verifier({
        "ResNets add identity shortcuts and prevent co-adaptation.": "ResNets add identity shortcut connections.",
        "ResNets won ImageNet 2016 with no error at all.": "ResNets won ImageNet 2016 with no error at all.",  # made up
        "Dropout was invented by aliens.": "This prevents co-adaptation of features.",  # real but unrelated
    })
    answer = ("ResNets add identity shortcuts and prevent co-adaptation [1][2]. "
              "ResNets won ImageNet 2016 with no error at all [1]. Dropout was invented by aliens [2].")
    result = check_claims(answer, EVIDENCE, verifier, Deadline(5))
    assert result.text == "ResNets add identity shortcuts and prevent co-adaptation [1]."  # [2] didn't say it
    assert (result.dropped, result.checked) == (2, 3)


def test_statements_with_markup_or_links_or_no_marker_are_dropped_unchecked():
    verifier = Verifier({"ResNets add identity shortcuts.": "ResNets add identity shortcut connections."})
    answer = ("<!channel>\nResNets add identity shortcuts [1]. Free GPUs at <https://evil.example|here> [1]. "
              "See https://evil.example for more [2]. Everyone agrees deep nets are great.")
    result = check_claims(answer, EVIDENCE, verifier, Deadline(5))
    assert result.text == "ResNets add identity shortcuts [1]."
    assert verifier.calls == [("ResNets add identity shortcuts.", RESNET.text)]
    assert result.dropped == 3  # the link, the URL and the uncited claim; the bare ping says nothing


def test_markers_pointing_at_no_passage_are_never_checked():
    verifier = Verifier({})
    result = check_claims("ResNets add shortcuts [7].", EVIDENCE, verifier, Deadline(5))
    assert verifier.calls == [] and result.text == "" and result.dropped == 1


def test_list_answers_keep_their_lines_and_bullets():
    verifier = Verifier({"ResNets add identity shortcuts.": "ResNets add identity shortcut connections.",
                         "Dropout drops units while training.": "Dropout randomly drops units during training."})
    answer = "Two papers:\n- ResNets add identity shortcuts [1].\n- Dropout drops units while training [2]."
    assert check_claims(answer, EVIDENCE, verifier, Deadline(5)).text == (
        "- ResNets add identity shortcuts [1].\n- Dropout drops units while training [2].")


def test_when_every_check_fails_the_failure_is_the_answer():
    verifier = Verifier({}, error=AnswererUnavailable("The language model server had an error."))
    with pytest.raises(AnswererUnavailable, match="server had an error"):
        check_claims("ResNets add shortcuts [1]. Dropout drops units [2].", EVIDENCE, verifier, Deadline(5))


def test_checks_run_together_and_stop_at_the_deadline():
    verifier = Verifier({}, delay_s=0.4)
    answer = " ".join(f"Claim number {i} about ResNets [1]." for i in range(4))
    started = time.monotonic()
    check_claims(answer, EVIDENCE, verifier, Deadline(5))
    assert time.monotonic() - started < 1.0  # four checks of 0.4 s, side by side
    slow = Verifier({}, delay_s=3)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        check_claims(answer, EVIDENCE, slow, Deadline(0.5))
    assert time.monotonic() - started < 1.0
