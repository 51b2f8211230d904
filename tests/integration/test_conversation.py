"""Conversations: follow-ups decided by the fitted model, resolved against earlier papers and people."""

from __future__ import annotations

import json

from click.testing import CliRunner

from paperbot.bot.cli import main
from paperbot.retrieval.types import Turn


def _turn(answer) -> Turn:
    return Turn(answer.question, answer.answer, tuple(answer.paper_ids))


def _title(library, answer) -> str:
    return library.searcher.papers[answer.paper_ids[0]].title


def test_follow_up_about_authors_is_answered_from_the_catalog(shared_library):
    first = shared_library.ask("What does the Reformer summary say about long texts?")
    follow_up = shared_library.ask("who wrote it?", history=[_turn(first)])
    assert "Nikita Kitaev" in follow_up.answer
    assert follow_up.citations[0].snippet.startswith("Authors: Nikita Kitaev")


def test_follow_up_without_a_pronoun_stays_with_the_paper(shared_library):
    first = shared_library.ask("what does fixmatch combine?")
    assert _title(shared_library, first).startswith("FixMatch")
    follow_up = shared_library.ask("and the confidence threshold?", history=[_turn(first)])
    assert follow_up.paper_ids[0] == first.paper_ids[0]


def test_a_pronoun_for_the_presenter_continues_with_that_person(shared_library):
    first = shared_library.ask("who presented the lottery ticket paper?")
    assert "Hongbo Tian" in first.answer
    follow_up = shared_library.ask("what else did he present?", history=[_turn(first)])
    assert follow_up.answer.startswith("Hongbo Tian presented 3 of our papers")
    assert "The Case for Learned Index Structures" in follow_up.answer


def test_ordinal_after_a_topic_list_answers_from_that_paper(shared_library):
    first = shared_library.ask("what have we read on mixture of experts?")
    assert len(first.paper_ids) >= 2
    follow_up = shared_library.ask("tell me more about the second one", history=[_turn(first)])
    assert not follow_up.abstained
    assert {c.paper_id for c in follow_up.citations} == {first.paper_ids[1]}


def test_a_new_subject_starts_a_fresh_search(shared_library):
    first = shared_library.ask("how does reformer make attention cheaper?")
    follow_up = shared_library.ask("what dataset does the adapool paper introduce?", history=[_turn(first)])
    assert _title(shared_library, follow_up).startswith("AdaPool")


def test_ask_about_one_paper_answers_generic_questions_from_it(shared_library):
    paper = next(p for p in shared_library.papers() if p.title.startswith("Deep Sets"))
    answer = shared_library.ask("what is the main finding?", scope=[paper.id])
    assert not answer.abstained
    assert {c.paper_id for c in answer.citations} == {paper.id}


def test_ask_reads_thread_lines_as_conversations_in_input_order(shipped_data_dir):
    lines = [
        {"thread": "t1", "question": "who presented the lottery ticket paper?"},
        "what does reformer change in attention?",
        {"thread": "t2", "question": "what does fixmatch combine?"},
        {"thread": "t1", "question": "what else did he present?"},
        {"thread": "t2", "question": "who wrote it?"},
    ]
    stdin = "\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines) + "\n"
    result = CliRunner().invoke(main, ["ask"], input=stdin)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["question"] for o in out] == [x["question"] if isinstance(x, dict) else x for x in lines]
    assert [o.get("thread") for o in out] == ["t1", None, "t2", "t1", "t2"]
    assert out[3]["answer"].startswith("Hongbo Tian presented 3 of our papers")
    assert "Kihyuk Sohn" in out[4]["answer"] or "FixMatch" in out[4]["answer"]


def test_a_follow_up_naming_one_of_the_listed_papers_picks_that_one(shared_library):
    first = shared_library.ask("what have we read on mixture of experts?")
    listed = [shared_library.searcher.papers[p].title for p in first.paper_ids]
    assert len(listed) >= 2
    target = next(i for i, t in enumerate(listed) if t.startswith("Distributed Learning of Mixtures of Experts"))
    assert target > 0  # not simply the first one listed
    follow_up = shared_library.ask("and the distributed one, what does it propose?", history=[_turn(first)])
    assert follow_up.paper_ids[0] == first.paper_ids[target]


def test_a_people_question_with_nothing_else_to_be_about_stays_with_the_thread_s_paper(shared_library):
    first = shared_library.ask("what's the gist of the lidar segmentation paper?")
    assert _title(shared_library, first).startswith("RangeNet++")
    for follow_up in ("who gave the talk on it", "und wer hat das vorgestellt?", "et qui l'a présenté ?"):
        answer = shared_library.ask(follow_up, history=[_turn(first)])
        assert answer.answer.startswith("“RangeNet++: Fast and Accurate LiDAR Semantic Segmentation” was presented by "
                                        "Daniel Havir"), (follow_up, answer.answer)
    other = shared_library.ask("and who wrote batchnorm?", history=[_turn(first)])  # names a paper of its own
    assert other.answer.startswith("“Batch Normalization: Accelerating Deep Network Training")
