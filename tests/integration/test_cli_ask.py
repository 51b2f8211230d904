"""`paperbot ask` through click's CliRunner: human output, --json, questions on stdin, clear errors."""

from __future__ import annotations

import json

from click.testing import CliRunner

from paperbot.bot.cli import main

CONTRACT_KEYS = {"question", "answer", "abstained", "latency_ms", "note", "citations"}
CITATION_KEYS = {"n", "paper_id", "title", "source", "snippet", "score"}


def test_ask_json_follows_the_answer_contract(shipped_data_dir):
    result = CliRunner().invoke(main, ["ask", "--json", "who wrote Reformer?"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == CONTRACT_KEYS
    assert data["abstained"] is False and data["latency_ms"] > 0
    assert set(data["citations"][0]) == CITATION_KEYS
    assert data["citations"][0]["snippet"].startswith("Authors: Nikita Kitaev")
    assert "[1]" in data["answer"]


def test_ask_reads_questions_from_stdin_one_json_object_per_line(shipped_data_dir):
    stdin = "who wrote Reformer?\n\nHow does Mamba's selective state-space layer work?\n" + " \n"
    result = CliRunner().invoke(main, ["ask"], input=stdin)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["question"] for line in lines] == ["who wrote Reformer?", "How does Mamba's selective state-space layer work?"]
    assert [line["abstained"] for line in lines] == [False, True]
    assert all(set(line) == CONTRACT_KEYS for line in lines)


def test_a_bad_line_on_stdin_does_not_lose_the_others(shipped_data_dir):
    result = CliRunner().invoke(main, ["ask"], input="x" * 5000 + "\nwho wrote Reformer?\n")
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert "error" in lines[0] and "characters" in lines[0]["error"]
    assert lines[1]["citations"]


def test_ask_human_output_lists_numbered_sources(shipped_data_dir):
    result = CliRunner().invoke(main, ["ask", "What dataset does the adaPool paper introduce?"])
    assert result.exit_code == 0, result.output
    assert "Inter4K" in result.output
    assert "Sources:" in result.output and "  [1] AdaPool" in result.output
    assert "(hf-daily-papers.txt)" in result.output


def test_ask_abstains_with_nearest_papers_named_once(shipped_data_dir):
    result = CliRunner().invoke(main, ["ask", "How does Mamba's selective state-space layer work?"])
    assert result.exit_code == 0
    first_line, *rest = result.output.strip().splitlines()
    assert first_line.startswith("That's not in our papers") and "The closest ones we have: “" in first_line
    assert rest == []  # the refusal's own line names the nearest papers; nothing repeats them


def test_asking_before_anything_is_indexed_says_so_in_one_line():
    result = CliRunner().invoke(main, ["ask", "who wrote Reformer?"])
    assert result.exit_code == 1
    assert result.output == "Error: the index is empty: run `paperbot ingest` first\n"


def test_empty_question_is_a_clear_error_not_a_traceback(shipped_data_dir):
    result = CliRunner().invoke(main, ["ask", "   "])
    assert result.exit_code == 1
    assert "empty" in result.output and "Traceback" not in result.output
