"""The one sentence splitter: verbatim pieces, never cut at abbreviations or decimals, and
headings, captions, bare URLs and image placeholders never quotable."""

import pytest
from paperbot.retrieval.sentences.split import is_quotable, split_sentences


@pytest.mark.parametrize("text, expected", [
    ("An accuracy of 96.53% vs. 97.22% is achieved on CIFAR-10. The search is 40% faster.",
     ["An accuracy of 96.53% vs. 97.22% is achieved on CIFAR-10.", "The search is 40% faster."]),
    ("It beats strong baselines, e.g. Atari agents and R2D2. It also wins at Go.",
     ["It beats strong baselines, e.g. Atari agents and R2D2.", "It also wins at Go."]),
    ("Kim et al. Proposed this first. Later work i.e. Version 2.1 of it runs 3.5 times faster.",
     ["Kim et al. Proposed this first.", "Later work i.e. Version 2.1 of it runs 3.5 times faster."]),
    ("As Fig. 3 shows, the loss drops. See Eq. 2 for the update rule used here.",
     ["As Fig. 3 shows, the loss drops.", "See Eq. 2 for the update rule used here."]),
    ("We use Python 3.11 and CUDA 12.1 throughout. Results hold.",
     ["We use Python 3.11 and CUDA 12.1 throughout.", "Results hold."]),
])
def test_never_cuts_at_abbreviations_decimals_or_versions(text, expected):
    assert split_sentences(text) == expected


def test_headings_urls_and_image_markers_are_pieces_of_their_own_and_never_quotable():
    text = ("This phenomenon is called internal covariate shift (ICS). #### What is BN? Normalize each feature "
            "independently with respect to the mean. https://i.imgur.com/abc.png Across a few benchmarks, the "
            "models reach new trade-offs. ## Strengths - Thorough set of experiments on every shortcut. ![]() |")
    pieces = split_sentences(text)
    assert pieces == ["This phenomenon is called internal covariate shift (ICS).", "#### What is BN?",
                      "Normalize each feature independently with respect to the mean.", "https://i.imgur.com/abc.png",
                      "Across a few benchmarks, the models reach new trade-offs.", "## Strengths",
                      "Thorough set of experiments on every shortcut.", "![]() |"]
    assert [p for p in pieces if is_quotable(p)] == [pieces[0], pieces[2], pieces[4], pieces[6]]


def test_hard_wrapped_lines_are_one_sentence_and_blank_lines_end_one():
    assert split_sentences("Pruned networks keep their\naccuracy at a tenth of the size\n\nA new paragraph starts here.") == [
        "Pruned networks keep their accuracy at a tenth of the size", "A new paragraph starts here."]


def test_captions_and_remarks_about_the_summary_are_not_quotable():
    assert not is_quotable("Illustration of the pipeline and its three stages")
    assert not is_quotable("This summary builds on my summary of NERFs, so read that first.")
    assert is_quotable("The architecture uses two nested U-structures to capture context.")
