"""Scenario tests for `/paper`, its buttons and modals: the real Bolt app over real HTTP,
signed requests, a local fake Slack Web API recording every call."""

from __future__ import annotations

import json
import re
import time

import pytest

from paperbot.bot.listeners.add_paper import LINK, SUMMARY, TITLE, VIEW_ID
from paperbot.bot.listeners.commands import ASK_ABOUT_VIEW, QUESTION_BLOCK, QUESTION_INPUT
from paperbot.bot.blocks.paper_blocks import ASK_ABOUT, SHARE_PAPER, SHARE_REPLY, SHOW_SUMMARY
from tests.paper_slack_harness import paper_app, send_command, send_interaction  # noqa: F401 (fixture)


def _response_url(slack_base: str, name: str = "cmd") -> str:
    return f"{slack_base}response/{name}"


def _buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def _texts(blocks: list[dict]) -> str:
    out = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [e.get("text", "") for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(out)


def _command_reply(paper_app, text: str, name: str = "cmd") -> dict:
    """Run `/paper <text>` and return what the bot sent to the response_url."""
    before = len(paper_app.slack.of("response_url"))
    response = send_command(paper_app.url, text, response_url=_response_url(paper_app.slack_base, name))
    assert response.status_code == 200
    return paper_app.slack.wait_for("response_url", before + 1)[-1].args


def _click(paper_app, action_id: str, value: str, name: str = "btn", **extra) -> None:
    payload = {
        "type": "block_actions", "user": {"id": "U2BOB", "username": "bob", "name": "bob"},
        "api_app_id": "A1", "team": {"id": "T1"}, "trigger_id": "trigger-2",
        "channel": {"id": "C1READING"}, "container": {"type": "message", "is_ephemeral": True},
        "response_url": _response_url(paper_app.slack_base, name),
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                     "action_ts": str(time.time())}],
        **extra,
    }
    assert send_interaction(paper_app.url, payload).status_code == 200


def _submit(paper_app, callback_id: str, values: dict, private_metadata: str):
    payload = {
        "type": "view_submission", "user": {"id": "U1ALICE", "username": "alice", "name": "alice"},
        "api_app_id": "A1", "team": {"id": "T1"}, "trigger_id": "trigger-3",
        "view": {"id": "V1", "type": "modal", "callback_id": callback_id, "private_metadata": private_metadata,
                 "state": {"values": values}},
    }
    return send_interaction(paper_app.url, payload)


# -- /paper help, empty query, unknown subcommands --------------------------------------------


@pytest.mark.parametrize("text", ["help", "", "   ", "ask", "--frobnicate"])
def test_help_comes_back_in_the_ack_for_help_and_empty_input(paper_app, text):
    response = send_command(paper_app.url, text, response_url=_response_url(paper_app.slack_base))
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    listed = _texts(body["blocks"])
    for subcommand in ("/paper ask", "/paper add", "/paper digest", "/paper help"):
        assert subcommand in listed
    time.sleep(0.2)
    assert paper_app.slack.of("response_url") == []


# -- /paper <query> -----------------------------------------------------------------------------


def test_lookup_replies_ephemerally_with_the_right_paper_first_and_its_buttons(paper_app):
    started = time.monotonic()
    reply = _command_reply(paper_app, "refomer")
    assert reply["response_type"] == "ephemeral"
    first = reply["blocks"][1]["text"]["text"]
    assert first.startswith("*Reformer: The Efficient Transformer*")
    assert "Training good transformers" in first  # the TL;DR
    assert "Nikita Kitaev" in reply["blocks"][2]["elements"][0]["text"]
    buttons = _buttons(reply["blocks"][:4])
    assert [b["text"]["text"] for b in buttons] == ["Show summary", "Ask about this", "Share in channel"]
    assert [b["action_id"] for b in buttons] == [SHOW_SUMMARY, ASK_ABOUT, SHARE_PAPER]
    assert time.monotonic() - started < 3


def test_lookup_by_presenter_lists_their_papers(paper_app):
    reply = _command_reply(paper_app, "daniel havir")
    assert "RangeNet++" in reply["blocks"][1]["text"]["text"]
    assert "presented by Daniel Havir" in _texts(reply["blocks"])


def test_a_query_nothing_matches_gets_the_help(paper_app):
    reply = _command_reply(paper_app, "zzqx")
    assert "No paper matches" in _texts(reply["blocks"]) and "/paper ask" in _texts(reply["blocks"])


def test_a_query_of_only_markup_matches_nothing(paper_app):
    reply = _command_reply(paper_app, "<!channel> <https://evil.example|x>")
    texts = _texts(reply["blocks"])
    assert "No paper matches" in texts and "matched on" not in texts
    assert "<!channel>" not in json.dumps(reply) and "<https://evil.example" not in json.dumps(reply)


def test_user_text_is_escaped_and_never_pings(paper_app):
    reply = _command_reply(paper_app, "<!channel> <@U999> lottery & tickets")
    rendered = json.dumps(reply)
    assert "<!channel>" not in rendered and "<@U999>" not in rendered
    assert "&lt;!channel&gt;" in rendered


# -- buttons --------------------------------------------------------------------------------------


def test_show_summary_sends_the_verbatim_summary_ephemerally(paper_app):
    paper = paper_app.paper_titled("Fast Differentiable Sorting")
    _click(paper_app, SHOW_SUMMARY, paper.id)
    reply = paper_app.slack.wait_for("response_url")[-1].args
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert " ".join(paper.text.split()) in " ".join(_texts(reply["blocks"]).split())


def test_share_paper_posts_it_in_the_channel_naming_who_shared(paper_app):
    paper = paper_app.paper_titled("PointRend")
    _click(paper_app, SHARE_PAPER, paper.id)
    reply = paper_app.slack.wait_for("response_url")[-1].args
    assert reply["response_type"] == "in_channel"
    assert "PointRend" in _texts(reply["blocks"]) and "Shared by bob" in _texts(reply["blocks"])
    assert "<@" not in json.dumps(reply)


def test_ask_about_this_opens_a_modal_whose_answer_comes_back_ephemerally(paper_app):
    paper = paper_app.paper_titled("The Lottery Ticket Hypothesis")
    _click(paper_app, ASK_ABOUT, paper.id, name="card")
    (opened,) = paper_app.slack.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == ASK_ABOUT_VIEW and "Lottery Ticket" in _texts(view["blocks"])
    values = {QUESTION_BLOCK: {QUESTION_INPUT: {"type": "plain_text_input", "value": "How are winning tickets found?"}}}
    response = _submit(paper_app, ASK_ABOUT_VIEW, values, view["private_metadata"])
    assert response.status_code == 200 and not response.content
    reply = paper_app.slack.wait_for("response_url")[-1]
    assert reply.path.endswith("/card") and reply.args["response_type"] == "ephemeral"
    assert "How are winning tickets found?" in _texts(reply.args["blocks"])
    assert paper_app.asked[-1][1][0].paper_ids == (paper.id,)  # asked about that paper
    assert paper_app.asked[-1][2] == (paper.id,)


def test_a_generic_question_from_ask_about_this_is_answered_from_that_paper(paper_app):
    paper = paper_app.paper_titled("Deep Sets")
    _click(paper_app, ASK_ABOUT, paper.id, name="card")
    (opened,) = paper_app.slack.wait_for("views.open")
    values = {QUESTION_BLOCK: {QUESTION_INPUT: {"type": "plain_text_input", "value": "what is the main finding?"}}}
    _submit(paper_app, ASK_ABOUT_VIEW, values, opened.args["view"]["private_metadata"])
    reply = paper_app.slack.wait_for("response_url")[-1].args
    shown = _texts(reply["blocks"])
    assert "not in our papers" not in shown
    cited = set(re.findall(r"\*\[\d+\] (.+?)\* · ", shown))
    assert cited == {paper.title}  # every source listed under the answer is that paper


def test_ask_about_this_with_an_empty_question_stays_open_with_an_error(paper_app):
    values = {QUESTION_BLOCK: {QUESTION_INPUT: {"type": "plain_text_input", "value": "  "}}}
    response = _submit(paper_app, ASK_ABOUT_VIEW, values, json.dumps({"paper_id": "x"}))
    assert response.json() == {"response_action": "errors", "errors": {QUESTION_BLOCK: "Type a question first."}}


# -- /paper ask ------------------------------------------------------------------------------------


def test_ask_answers_ephemerally_and_the_share_button_posts_it_in_channel(paper_app):
    response = send_command(paper_app.url, "ask What is the lottery ticket hypothesis?",
                            response_url=_response_url(paper_app.slack_base))
    assert response.status_code == 200
    assert "Looking through the papers" in response.json()["text"]
    reply = paper_app.slack.wait_for("response_url")[-1].args
    assert reply["response_type"] == "ephemeral"
    assert "What is the lottery ticket hypothesis?" in _texts(reply["blocks"])
    (share,) = [b for b in _buttons(reply["blocks"]) if b["action_id"] == SHARE_REPLY]
    from datetime import datetime, timezone

    logged = paper_app.state.questions_between(datetime(2000, 1, 1, tzinfo=timezone.utc), datetime.now(timezone.utc))
    assert [q for q, _ in logged] == ["What is the lottery ticket hypothesis?"]

    _click(paper_app, SHARE_REPLY, share["value"])
    shared = paper_app.slack.wait_for("response_url", 2)[-1].args
    assert shared["response_type"] == "in_channel"
    assert _texts(reply["blocks"]).split("\n")[:2] == _texts(shared["blocks"]).split("\n")[:2]
    assert "Shared by bob" in _texts(shared["blocks"]) and SHARE_REPLY not in json.dumps(shared)


# -- /paper add --------------------------------------------------------------------------------------


def _add_values(title="Attention Is All You Need", summary="The Transformer drops recurrence entirely.",
                link="https://arxiv.org/abs/1706.03762"):
    return {
        TITLE: {TITLE: {"type": "plain_text_input", "value": title}},
        "authors": {"authors": {"type": "plain_text_input", "value": "Ashish Vaswani, Noam Shazeer"}},
        LINK: {LINK: {"type": "url_text_input", "value": link}},
        "presenter": {"presenter": {"type": "plain_text_input", "value": "Carol <!here>"}},
        SUMMARY: {SUMMARY: {"type": "plain_text_input", "value": summary}},
    }


def _open_add_modal(paper_app) -> dict:
    response = send_command(paper_app.url, "add", response_url=_response_url(paper_app.slack_base))
    assert response.status_code == 200
    (opened,) = paper_app.slack.wait_for("views.open")
    assert opened.args["trigger_id"] == "trigger-1"
    return opened.args["view"]


def test_add_indexes_the_paper_at_once_records_who_and_confirms_in_channel(paper_app):
    view = _open_add_modal(paper_app)
    assert view["callback_id"] == VIEW_ID
    assert {b["block_id"] for b in view["blocks"]} == {TITLE, "authors", LINK, "presenter", SUMMARY}
    before = len(paper_app.library.papers())
    response = _submit(paper_app, VIEW_ID, _add_values(), view["private_metadata"])
    assert response.status_code == 200 and not response.content  # the modal closes
    (posted,) = paper_app.slack.wait_for("chat.postMessage")
    assert posted.args["channel"] == "C1READING"
    assert "alice added *<https://arxiv.org/abs/1706.03762|Attention Is All You Need>*" in _texts(posted.args["blocks"])
    papers = paper_app.library.papers()
    assert len(papers) == before + 1
    added = paper_app.paper_titled("Attention Is All You Need")
    assert added.added_by == "alice" and added.added is not None
    assert added.authors == ("Ashish Vaswani", "Noam Shazeer") and added.url == "https://arxiv.org/abs/1706.03762"
    assert "<!here>" not in json.dumps(posted.args)
    # Found by lookup right away.
    assert "Attention Is All You Need" in _command_reply(paper_app, "atention is all you need")["blocks"][1]["text"]["text"]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (_add_values(summary="   \n "), SUMMARY, "Paste the summary"),
        (_add_values(title="reformer: the  efficient TRANSFORMER"), TITLE, "already in the library"),
        (_add_values(link="javascript:alert(1)"), LINK, "not a web link"),
    ],
)
def test_bad_input_is_shown_in_the_modal_and_nothing_is_saved(paper_app, values, field, message):
    before = len(paper_app.library.papers())
    response = _submit(paper_app, VIEW_ID, values, json.dumps({"channel": "C1READING"}))
    body = response.json()
    assert body["response_action"] == "errors" and message in body["errors"][field]
    time.sleep(0.3)
    assert len(paper_app.library.papers()) == before
    assert paper_app.slack.of("chat.postMessage") == []


# -- /paper digest -------------------------------------------------------------------------------------


def test_digest_preview_is_ephemeral(paper_app):
    reply = _command_reply(paper_app, "digest")
    assert reply["response_type"] == "ephemeral"
    text = _texts(reply["blocks"])
    assert "Preview of this week's digest" in text and "<#C9DIGEST>" in text
    # A fresh install: its papers are the library, not news; one of them is the archive pick.
    assert "*New this week*\nNo new summaries this week" in text and "*From the archive*" in text
    assert len(reply["blocks"]) <= 50
    assert paper_app.slack.of("chat.postMessage") == []


# -- help texts: placeholders Slack would read as markup are escaped ----------------------------------


def test_help_shows_usage_placeholders_escaped(paper_app):
    body = send_command(paper_app.url, "help", response_url=_response_url(paper_app.slack_base)).json()
    assert body["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": (
        "*What `/paper` can do*\n"
        "`/paper &lt;title, author, presenter or topic&gt;` — find a paper (typos are fine: `/paper refomer`)\n"
        "`/paper ask &lt;question&gt;` — answer a question from the papers we read, with citations\n"
        "`/paper add` — add a paper summary (indexed at once)\n"
        "`/paper add &lt;arXiv id or link&gt;` — add a paper from arXiv (its abstract is the summary until you edit it)\n"
        "`/paper digest` — preview this week's digest\n"
        "`/paper help` — this list")}}]
    assert "<" not in json.dumps(body)


# -- the question limit, everywhere -------------------------------------------------------------------


def test_an_over_long_question_gets_the_limit_message_not_an_echo(paper_app):
    question = "why does the lottery ticket hypothesis hold " * 60  # 2,640 characters
    response = send_command(paper_app.url, f"ask {question}", response_url=_response_url(paper_app.slack_base))
    text = "That question is a bit long for me: please keep it under 2000 characters."
    assert response.json() == {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
                               "response_type": "ephemeral"}
    time.sleep(0.5)
    assert paper_app.slack.of("response_url") == [] and paper_app.asked == []


def test_a_long_question_within_the_limit_is_echoed_shortened(paper_app):
    question = "What is the lottery ticket hypothesis " + "and why " * 150 + "?"
    response = send_command(paper_app.url, f"ask {question}", response_url=_response_url(paper_app.slack_base))
    echoed = response.json()["text"]
    assert echoed.startswith("Looking through the papers for: What is the lottery ticket hypothesis and why")
    assert echoed.endswith("…") and len(echoed) < 200
    assert paper_app.slack.wait_for("response_url")[-1].args["response_type"] == "ephemeral"


def test_the_ask_about_form_refuses_an_over_long_question_in_place(paper_app):
    values = {QUESTION_BLOCK: {QUESTION_INPUT: {"type": "plain_text_input", "value": "why " * 600}}}
    response = _submit(paper_app, ASK_ABOUT_VIEW, values, json.dumps({"paper_id": "x"}))
    assert response.json() == {"response_action": "errors", "errors": {
        QUESTION_BLOCK: "That question is a bit long for me: please keep it under 2000 characters."}}
    time.sleep(0.3)
    assert paper_app.asked == []


# -- failures: a short apology that says what to do, never silence ----------------------------------


def _broken(message: str):
    def fail(*args, **kwargs):
        raise ConnectionError(message)

    return fail


def test_a_failing_ask_replaces_looking_through_the_papers_with_an_apology(paper_app, caplog, monkeypatch):
    monkeypatch.setattr(paper_app.library, "ask", _broken("chroma server unreachable at 10.0.0.5:8000"))
    response = send_command(paper_app.url, "ask What is the lottery ticket hypothesis?",
                            response_url=_response_url(paper_app.slack_base))
    assert response.json()["text"] == "Looking through the papers for: What is the lottery ticket hypothesis?"
    (reply,) = paper_app.slack.wait_for("response_url")
    assert reply.args == {"text": "Sorry, I couldn't answer that just now: something went wrong on my side. "
                                  "Please try `/paper ask` again in a minute.",
                          "response_type": "ephemeral", "replace_original": True}
    assert "chroma server unreachable" in caplog.text


def test_a_failing_lookup_and_digest_preview_apologise(paper_app, monkeypatch):
    monkeypatch.setattr(paper_app.library, "lookup", _broken("chroma down"))
    monkeypatch.setattr(paper_app.library, "papers", _broken("chroma down"))
    assert _command_reply(paper_app, "refomer", "lookup") == {
        "text": "Sorry, I couldn't look that up just now: something went wrong on my side. "
                "Please try `/paper` again in a minute.", "response_type": "ephemeral", "replace_original": False}
    assert _command_reply(paper_app, "digest", "digest") == {
        "text": "Sorry, I couldn't build the digest preview just now: something went wrong on my side. "
                "Please try `/paper digest` again in a minute.", "response_type": "ephemeral", "replace_original": False}


def test_a_failing_button_apologises(paper_app, monkeypatch):
    monkeypatch.setattr(paper_app.library, "paper", _broken("chroma down"))
    _click(paper_app, SHOW_SUMMARY, "any-paper-id")
    assert paper_app.slack.wait_for("response_url")[-1].args == {
        "text": "Sorry, I couldn't show that summary just now: something went wrong on my side. "
                "Please click again in a minute.", "response_type": "ephemeral", "replace_original": False}


def test_a_form_that_cannot_open_apologises(paper_app):
    paper_app.slack.fail_methods.add("views.open")
    send_command(paper_app.url, "add", response_url=_response_url(paper_app.slack_base))
    assert paper_app.slack.wait_for("response_url")[-1].args == {
        "text": "Sorry, I couldn't open the form just now: something went wrong on my side. "
                "Please try `/paper add` again.", "response_type": "ephemeral", "replace_original": False}


# -- /paper add where the bot can't post ----------------------------------------------------------------


def test_add_from_a_private_channel_the_bot_is_not_in_confirms_by_dm(paper_app):
    paper_app.slack.channel_errors["G1PRIVATE"] = "channel_not_found"  # what Slack says for such a channel
    response = send_command(paper_app.url, "add", response_url=_response_url(paper_app.slack_base), channel="G1PRIVATE")
    assert response.status_code == 200
    (opened,) = paper_app.slack.wait_for("views.open")
    _submit(paper_app, VIEW_ID, _add_values(), opened.args["view"]["private_metadata"])
    dm = paper_app.slack.wait_for("chat.postMessage", count=2)[1]
    assert [(c.method, c.args["channel"]) for c in paper_app.slack.chat_calls()] == [
        ("chat.postMessage", "G1PRIVATE"), ("chat.postEphemeral", "G1PRIVATE"), ("chat.postMessage", "U1ALICE")]
    assert dm.args["text"] == "alice added “Attention Is All You Need” to the library"
    assert [b["type"] for b in dm.args["blocks"]] == ["section", "context", "context"]
    assert dm.args["blocks"][0]["text"]["text"].startswith(
        "alice added *<https://arxiv.org/abs/1706.03762|Attention Is All You Need>* to the library\n")
    assert dm.args["blocks"][1]["elements"][0]["text"] == (
        "Find it with `/paper &lt;title&gt;` · ask about it with `/paper ask &lt;question&gt;`")
    assert dm.args["blocks"][2]["elements"][0]["text"] == (
        "I couldn't announce it in that channel because I'm not a member: invite me there and I will next time.")
    assert paper_app.paper_titled("Attention Is All You Need").added_by == "alice"


def test_add_that_fails_to_index_apologises_and_hands_the_summary_back(paper_app, monkeypatch):
    monkeypatch.setattr(paper_app.library, "add_paper", _broken("chroma down"))
    view = _open_add_modal(paper_app)
    _submit(paper_app, VIEW_ID, _add_values(summary="The Transformer drops recurrence <entirely>."),
            view["private_metadata"])
    (told,) = paper_app.slack.wait_for("chat.postEphemeral")
    assert (told.args["channel"], told.args["user"]) == ("C1READING", "U1ALICE")
    assert told.args["text"] == (
        "Sorry, I couldn't add “Attention Is All You Need” just now: something went wrong on my side. "
        "Please try `/paper add` again in a minute.\n"
        "Here is what you submitted, so you can paste it again:\n"
        "```The Transformer drops recurrence &lt;entirely&gt;.```")
    assert paper_app.slack.of("chat.postMessage") == []
