"""People and title questions on the shipped corpus: the words of the answer, not just its shape.

Phrasings here are none of the labelled sets' (they check behaviour, not memory of the labels).
"""

from __future__ import annotations

import pytest

BATCHNORM = "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift"
MUZERO = "Mastering Atari, Go, Chess and Shogi by Planning with a Learned Model"
LOTTERY = "The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks"


@pytest.mark.parametrize("question,name", [
    ("do we have anything by Yoshua Bengio in the list?", "Yoshua Bengio"),
    ("is there any paper from fei-fei li in our papers", "Fei-Fei Li"),
])
def test_a_person_none_of_our_papers_names_gets_a_plain_no(shared_library, question, name):
    answer = shared_library.ask(question)
    assert answer.answer == (f"No: none of our papers is by {name}, as author or presenter, "
                             "as far as our notes record.")
    assert not answer.abstained and answer.citations == [] and answer.paper_ids == []


def test_asking_whether_a_known_author_is_in_the_list_says_yes_and_names_the_paper(shared_library):
    answer = shared_library.ask("any papers by david silver in the library?")
    assert answer.answer.startswith(f"Yes: David Silver is an author of one of our papers: “{MUZERO}”")
    assert not answer.abstained
    titles = {p.id: p.title for p in shared_library.papers()}
    assert [titles[p] for p in answer.paper_ids] == [MUZERO]


def test_a_person_s_papers_are_what_the_answer_is_about_even_without_a_quotable_header(shared_library):
    # The ShortScience summaries carry no "Authors:" line to cite; the answer is still about the paper.
    answer = shared_library.ask("Which of our papers did Christian Szegedy co-author?")
    assert f"“{BATCHNORM}”" in answer.answer
    titles = {p.id: p.title for p in shared_library.papers()}
    assert [titles[p] for p in answer.paper_ids] == [BATCHNORM]


def test_a_title_run_together_and_cut_short_names_the_paper_in_a_who_question(shared_library):
    answer = shared_library.ask("was batchnorm written by kaiming he?")
    first, second = answer.answer.splitlines()
    assert first == f"No: Kaiming He neither wrote nor presented “{BATCHNORM}”, as far as our notes record."
    assert second.startswith(f"“{BATCHNORM}” was written by Sergey Ioffe and Christian Szegedy")


def test_the_field_asked_for_comes_first_even_when_it_is_not_recorded(shared_library):
    answer = shared_library.ask("who gave the talk on the reformer paper?")
    assert answer.answer.startswith("Our notes don't say who presented “Reformer: The Efficient Transformer”; "
                                    "it was written by Nikita Kitaev, Łukasz Kaiser and Anselm Levskaya")


@pytest.mark.parametrize("question,expected", [
    ("who presented lottery ticket at the reading group?", f"“{LOTTERY}” was presented by Hongbo Tian"),
    ("How many talks did Felix Lau give at the reading group?", "Felix Lau presented 2 of our papers:"),
])
def test_naming_the_reading_group_in_a_people_question_does_not_list_the_blog(shared_library, question, expected):
    answer = shared_library.ask(question)
    assert answer.answer.startswith(expected)
    assert "come from" not in answer.answer


def test_asking_for_the_blog_s_papers_still_lists_them(shared_library):
    answer = shared_library.ask("show me all the papers from the reading group blog")
    assert answer.answer.startswith("8 of our papers come from scale-ai-reading-group.txt: ")
    assert f"“{LOTTERY}”" in answer.answer


def test_a_short_question_with_a_word_only_one_summary_has_is_not_taken_for_chatter(shared_library):
    # "bnas" is in one summary only: the question is about that paper, however chatty it looks.
    answer = shared_library.ask("bnas numbers on cifar10??")
    bnas = next(p for p in shared_library.papers() if p.title.startswith("Binarized Neural Architecture Search"))
    assert not answer.abstained and answer.paper_ids[0] == bnas.id
    assert "96.53%" in answer.answer
    for chatter in ("cheers, that was quick", "haha nice one"):
        assert shared_library.ask(chatter).answer.startswith("That's not in our papers: I answer questions about")
