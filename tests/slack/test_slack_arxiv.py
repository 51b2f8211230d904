"""Papers from arXiv in Slack, over real HTTP: `/paper add <id>` (confirmation, prefilled form, saving
the group's summary) and arXiv links unfurled for a paper we have and one we don't (whose button
adds it). Every chat.* call's content is checked."""

from __future__ import annotations

import json
import time

import pytest

from tests.fake_arxiv import start_fake_arxiv
from tests.paper_slack_harness import make_bot, send_command, send_interaction  # noqa: F401 (fixture)
from tests.integration.test_arxiv_add import SPARSE_MOE

TITLE = SPARSE_MOE.title
ABS = "https://arxiv.org/abs/2405.01234"


@pytest.fixture
def arxiv():
    fake, server, url = start_fake_arxiv()
    fake.add(SPARSE_MOE)
    fake.url = url
    yield fake
    server.shutdown()


@pytest.fixture
def bot(make_bot, arxiv):
    return make_bot(arxiv={"api_url": arxiv.url, "request_spacing_s": 0})


def _wait(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _click(bot, action_id: str, value: str, trigger: str, **extra):
    payload = {"type": "block_actions", "user": {"id": "U2BOB", "username": "bob", "name": "bob"},
               "api_app_id": "A1", "team": {"id": "T1"}, "trigger_id": trigger, "channel": {"id": "C1READING"},
               "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                            "action_ts": str(time.time())}], **extra}
    assert send_interaction(bot.url, payload).status_code == 200


def _submit(bot, view: dict, values: dict[str, str]):
    payload = {"type": "view_submission", "user": {"id": "U1ALICE", "username": "alice", "name": "alice"},
               "api_app_id": "A1", "team": {"id": "T1"}, "trigger_id": "trigger-submit",
               "view": {"id": "V1", "type": "modal", "callback_id": view["callback_id"],
                        "private_metadata": view["private_metadata"],
                        "state": {"values": {k: {k: {"type": "plain_text_input", "value": v}} for k, v in values.items()}}}}
    return send_interaction(bot.url, payload)


def _initial(view: dict) -> dict[str, str]:
    return {b["block_id"]: b["element"].get("initial_value", "") for b in view["blocks"] if b["type"] == "input"}


def _texts(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_paper_add_with_an_arxiv_link_adds_confirms_and_opens_the_form_prefilled(bot, arxiv):
    response = send_command(bot.url, f"add {ABS}v2", response_url=bot.fake_server_base + "response/1",
                            trigger_id="trigger-add")
    assert response.status_code == 200 and response.text == ""
    (opened,) = bot.fake.wait_for("views.open")
    assert opened.args["trigger_id"] == "trigger-add"
    assert opened.args["view"]["external_id"] == "paper-add-trigger-add"
    assert opened.args["view"]["blocks"][0]["text"]["text"] == "Fetching arXiv 2405.01234v2 …"

    (updated,) = bot.fake.wait_for("views.update")
    assert updated.args["external_id"] == "paper-add-trigger-add"
    form = updated.args["view"]
    assert form["callback_id"] == "paper_edit_view"
    assert _initial(form) == {"title": TITLE, "authors": ", ".join(SPARSE_MOE.authors), "presenter": "",
                              "summary": SPARSE_MOE.abstract}
    assert [ids for _, ids in arxiv.requests] == ["2405.01234v2"]

    (post,) = bot.fake.chat_calls()
    assert post.method == "chat.postMessage" and post.args["channel"] == "C1READING"
    assert post.args["text"] == f"alice added “{TITLE}” to our papers from arXiv"
    blocks = post.args["blocks"]
    assert blocks[0]["elements"][0]["text"] == post.args["text"]
    assert blocks[1]["text"]["text"].startswith(f"*<{ABS}|{TITLE}>*\nMixture-of-experts layers route each token")
    assert blocks[2]["elements"][0]["text"] == "Ada Lovelace, Alan Turing, Grace Hopper, Edsger Dijkstra  ·  _arxiv_"
    paper = bot.library.paper_titled(TITLE)
    assert [(e["text"]["text"], e["action_id"], e["value"]) for e in blocks[3]["elements"]] == [
        ("Ask about this", "paper_ask_about", paper.id), ("Edit", "paper_edit", paper.id)]
    assert paper.url == ABS and paper.added_by == "alice" and f"{paper.date:%Y-%m-%d}" == "2024-05-02"

    # The presenter replaces the abstract with the group's summary.
    summary = ("We read Quokka Routing in week 12. The group's take: the shared key projection is what makes "
               "routing cheap, and Maria found the load-balancing loss still needs a tuned coefficient of 0.01.")
    response = _submit(bot, form, {"title": TITLE, "authors": "Ada Lovelace, Alan Turing", "presenter": "Maria",
                                   "summary": summary})
    assert response.status_code == 200 and response.text == ""
    (saved,) = bot.fake.wait_for("chat.postEphemeral")
    assert saved.args["user"] == "U1ALICE" and saved.args["channel"] == "C1READING"
    assert saved.args["text"] == f"Saved your changes to “{TITLE}”."
    assert "presented by Maria" in _texts(saved.args["blocks"])
    edited = bot.library.paper(paper.id)
    assert (edited.text, edited.authors, edited.presenter) == (summary, ("Ada Lovelace", "Alan Turing"), "Maria")
    assert edited.added == paper.added and edited.added_by == "alice" and edited.url == ABS
    answer = bot.library.ask("What load-balancing loss coefficient does Quokka Routing need?")
    assert answer.citations and answer.citations[0].paper_id == paper.id and "0.01" in answer.citations[0].snippet
    assert [c.method for c in bot.fake.chat_calls()] == ["chat.postMessage", "chat.postEphemeral"]


def test_paper_add_of_a_paper_we_have_or_an_unknown_id_says_so_in_the_form(bot, arxiv):
    send_command(bot.url, "add arXiv:1603.05027v2", response_url=bot.fake_server_base + "response/1",
                 trigger_id="trigger-known")
    (known,) = bot.fake.wait_for("views.update")
    assert known.args["external_id"] == "paper-add-trigger-known"
    blocks = known.args["view"]["blocks"]
    assert blocks[0]["text"]["text"] == "“Identity Mappings in Deep Residual Networks” is already in our papers."
    assert blocks[1]["text"]["text"].startswith("*<https://arxiv.org/abs/1603.05027|Identity Mappings in Deep Residual")
    assert "callback_id" not in known.args["view"] and arxiv.requests == []

    send_command(bot.url, "add 2499.99999", response_url=bot.fake_server_base + "response/2", trigger_id="trigger-unknown")
    unknown = bot.fake.wait_for("views.update", 2)[1]
    assert unknown.args["external_id"] == "paper-add-trigger-unknown"
    assert unknown.args["view"]["blocks"][0]["text"]["text"] == (
        "I couldn't add that paper: no arXiv paper 2499.99999: check the id (e.g. 1706.03762 or hep-th/9901001)")
    assert bot.fake.chat_calls() == []  # nothing announced, nothing added
    assert bot.library.paper_from_arxiv("2499.99999") is None


def test_paper_add_with_something_else_shows_how(bot):
    response = send_command(bot.url, "add attention is all you need", response_url=bot.fake_server_base + "response/1")
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert body["blocks"][0]["text"]["text"].startswith("`/paper add` takes an arXiv id or link, e.g. `/paper add 1706.03762`")
    assert bot.fake.of("views.open") == []


def _link_shared(bot, urls: list[str], event_id: str):
    event = {"type": "link_shared", "channel": "C1READING", "user": "U1ALICE", "message_ts": "1700000001.000100",
             "unfurl_id": "U123", "source": "conversations_history",
             "links": [{"domain": "arxiv.org", "url": url} for url in urls]}
    assert bot.event(event, event_id).status_code == 200


def test_a_link_to_a_paper_we_have_unfurls_with_who_presented_it_and_questions_asked(bot):
    paper = bot.library.paper_from_arxiv("1603.05027")
    for _ in range(2):
        bot.state.record_question("why identity mappings?", paper_ids=[paper.id, "other"])
    bot.state.record_question("something else", paper_ids=["other"])
    url = "https://arxiv.org/pdf/1603.05027v3"
    _link_shared(bot, [url, "https://example.com/not-arxiv"], "Ev-known")
    (call,) = bot.fake.wait_for("chat.unfurl")
    assert call.args["channel"] == "C1READING" and call.args["ts"] == "1700000001.000100"
    unfurls = call.args["unfurls"] if isinstance(call.args["unfurls"], dict) else json.loads(call.args["unfurls"])
    assert list(unfurls) == [url]
    blocks = unfurls[url]["blocks"]
    when = (paper.added or paper.date).strftime("%Y-%m-%d")
    presented = f"presented by {paper.presenter} on {when}" if paper.presenter else f"added on {when}"
    assert blocks[0]["text"]["text"] == (f"*<https://arxiv.org/abs/1603.05027|{paper.title}>*\n"
                                         f"In our papers: {presented}, 2 questions asked")
    assert [(e["action_id"], e["value"]) for e in blocks[1]["elements"]] == [("paper_ask_about", paper.id)]
    assert [c.method for c in bot.fake.chat_calls()] == ["chat.unfurl"]


def test_a_link_to_a_paper_we_dont_have_offers_to_add_it_and_the_button_does(bot, arxiv):
    url = f"{ABS}v2"
    _link_shared(bot, [url], "Ev-unknown")
    (call,) = bot.fake.wait_for("chat.unfurl")
    unfurls = call.args["unfurls"] if isinstance(call.args["unfurls"], dict) else json.loads(call.args["unfurls"])
    blocks = unfurls[url]["blocks"]
    assert blocks[0]["text"]["text"] == f"*<{ABS}|{TITLE}>*\nAda Lovelace, Alan Turing, Grace Hopper, Edsger Dijkstra"
    assert blocks[1]["elements"][0]["text"] == "Not in our papers yet."
    (button,) = blocks[2]["elements"]
    assert button["text"]["text"] == "Add to our papers" and button["action_id"] == "paper_add_from_arxiv"
    assert bot.library.paper_titled(TITLE) is None  # an unfurl adds nothing by itself

    _click(bot, button["action_id"], button["value"], "trigger-unfurl-add",
           container={"type": "message_attachment", "channel_id": "C1READING", "message_ts": "1700000001.000100"})
    (post,) = bot.fake.wait_for("chat.postMessage")
    assert post.args["channel"] == "C1READING" and post.args["text"] == f"bob added “{TITLE}” to our papers from arXiv"
    again = bot.fake.wait_for("chat.unfurl", 2)[1]
    paper = bot.library.paper_titled(TITLE)
    assert paper is not None and paper.added_by == "bob"
    relinked = again.args["unfurls"] if isinstance(again.args["unfurls"], dict) else json.loads(again.args["unfurls"])
    assert relinked[url]["blocks"][0]["text"]["text"] == (
        f"*<{ABS}|{TITLE}>*\nIn our papers: added on {paper.added:%Y-%m-%d}, no questions asked yet")
    assert [c.method for c in bot.fake.chat_calls()] == ["chat.unfurl", "chat.postMessage", "chat.unfurl"]
