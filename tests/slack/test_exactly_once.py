"""Exactly once across replicas: two real Bolt apps over HTTP share one state database (SQLite,
and a real PostgreSQL) and one fake Slack; every delivery is answered once, never zero times.
"""

from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from paperbot.bot.app import build_app
from paperbot.bot.blocks.feedback_buttons import FEEDBACK_ACTION
from paperbot.bot.state.schema import feedback, processed_events
from paperbot.bot.web.server import serve_in_thread
from paperbot.bot.state.store import State
from paperbot.config import load_settings
from tests.paper_slack_harness import SIGNING_SECRET, send_event, send_interaction, signed_post, start_fake_slack
from tests.waiting import wait_until

BOT_USER = "UBOT"


def _wait_until(condition, timeout: float = 15.0, what: str = "condition") -> None:
    wait_until(condition, timeout, what)


@pytest.fixture(params=["sqlite", "postgresql"])
def replicas(request, shipped_library, tmp_path):
    """Two replicas: each its own app, HTTP server and state engine; one database, one Slack."""
    url = (f"sqlite:///{tmp_path / 'state.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("empty_postgres"))
    fake, slack_server = start_fake_slack()
    settings = load_settings(data_dir=shipped_library.settings.data_dir,
                             slack_api_url=f"http://127.0.0.1:{slack_server.server_port}/api/",
                             slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET)
    states, servers = [], []
    for _ in range(2):
        state = State(url)
        server = serve_in_thread(build_app(settings, shipped_library, state), settings)
        states.append(state)
        servers.append(server)
    fake.calls.clear()
    yield SimpleNamespace(fake=fake, states=states, slack_base=f"http://127.0.0.1:{slack_server.server_port}/",
                          urls=[f"http://127.0.0.1:{s.server_port}/slack/events" for s in servers])
    for server in servers:
        server.shutdown()
    slack_server.shutdown()
    for state in states:
        state.engine.dispose()


def _mention(text: str, ts: str, channel: str = "C1READING") -> dict:
    return {"type": "app_mention", "user": "U1ALICE", "text": f"<@{BOT_USER}> {text}", "channel": channel, "ts": ts}


def _answers(fake) -> list:
    return fake.of("chat.postMessage")


def _text(call) -> str:
    return call.args.get("text", "") + json.dumps(call.args.get("blocks", []))


def _claimed(state: State) -> set[str]:
    with state.engine.connect() as conn:
        return set(conn.execute(sa.select(processed_events.c.event_id)).scalars())


ANSWER_WITHIN = 60.0  # a replica's first answer loads its models: generous on a busy machine


def _settle(seconds: float = 0.8) -> None:
    """Give a wrongly duplicated answer time to show up before asserting there is none."""
    time.sleep(seconds)


def test_one_mention_delivered_to_both_replicas_at_once_is_answered_once(replicas):
    event = _mention("who wrote Reformer?", ts="1700000100.000100")
    barrier = threading.Barrier(2)

    def deliver(url, retry):
        barrier.wait()
        send_event(url, event, "EvBoth", retry=retry)

    threads = [threading.Thread(target=deliver, args=(url, retry)) for url, retry in zip(replicas.urls, (None, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (answer,) = replicas.fake.wait_for("chat.postMessage", timeout=ANSWER_WITHIN)
    _settle()
    assert len(_answers(replicas.fake)) == 1
    assert answer.args["thread_ts"] == "1700000100.000100" and "Nikita Kitaev" in _text(answer)
    assert len(replicas.states[0].thread_history("C1READING", "1700000100.000100")) == 1


def test_a_retried_agent_thread_message_is_answered_once_across_replicas(replicas):
    message = {"type": "message", "channel_type": "im", "user": "U1ALICE", "channel": "D1ALICE",
               "text": "What dataset does the adaPool paper introduce?", "ts": "1700000200.000200",
               "thread_ts": "1700000200.000100"}
    send_event(replicas.urls[0], message, "EvAgent")
    (answer,) = replicas.fake.wait_for("chat.postMessage", timeout=ANSWER_WITHIN)
    send_event(replicas.urls[1], message, "EvAgent", retry=1)
    send_event(replicas.urls[0], message, "EvAgent", retry=2)
    _settle()
    assert len(_answers(replicas.fake)) == 1
    assert answer.args["channel"] == "D1ALICE" and answer.args["thread_ts"] == "1700000200.000100"
    assert "Inter4K" in _text(answer)


@pytest.mark.parametrize("outage", ["rate_limited", "unavailable"])
def test_slack_trouble_on_the_first_delivery_leaves_the_redelivery_to_answer_once(replicas, outage):
    """429 (or 503) on every try of the first reply: no answer, nothing claimed, nothing logged as
    answered; Slack's redelivery (to the other replica) is then answered exactly once."""
    attempts = 4 if outage == "rate_limited" else 3  # one more than slack-sdk's retries in bot/slack_client.py
    getattr(replicas.fake, outage)["chat.postMessage"] = attempts
    event = _mention("who wrote Reformer?", ts="1700000300.000100")
    status = "429" if outage == "rate_limited" else "503"
    send_event(replicas.urls[0], event, "EvStorm")
    replicas.fake.wait_for(f"chat.postMessage:{status}", count=attempts, timeout=ANSWER_WITHIN)
    _wait_until(lambda: not _claimed(replicas.states[0]), what="the claim to be released")
    assert _answers(replicas.fake) == []
    assert replicas.states[0].thread_history("C1READING", "1700000300.000100") == []

    send_event(replicas.urls[1], event, "EvStorm", retry=1)
    (answer,) = replicas.fake.wait_for("chat.postMessage", timeout=ANSWER_WITHIN)
    send_event(replicas.urls[0], event, "EvStorm", retry=2)
    _settle()
    assert len(_answers(replicas.fake)) == 1 and "Nikita Kitaev" in _text(answer)
    assert len(replicas.states[1].thread_history("C1READING", "1700000300.000100")) == 1


def test_a_slash_command_delivered_twice_runs_once(replicas):
    body = urlencode({"command": "/paper", "text": "ask who wrote Reformer?", "user_id": "U1ALICE",
                      "user_name": "alice", "channel_id": "C1READING", "team_id": "T1", "api_app_id": "A1",
                      "trigger_id": "13345224609.738474920.8088930838d88f008e0",
                      "response_url": f"{replicas.slack_base}response/cmd"})
    first = signed_post(replicas.urls[0], body, "application/x-www-form-urlencoded")
    second = signed_post(replicas.urls[1], body, "application/x-www-form-urlencoded")
    assert first.status_code == second.status_code == 200
    assert "Looking through the papers" in first.text and second.text == ""  # the duplicate is only acknowledged
    (reply,) = replicas.fake.wait_for("response_url", timeout=ANSWER_WITHIN)
    _settle()
    assert len(replicas.fake.of("response_url")) == 1 and "Nikita Kitaev" in _text(reply)


def test_a_feedback_click_delivered_twice_is_stored_once(replicas):
    send_event(replicas.urls[0], _mention("who wrote Reformer?", ts="1700000400.000100"), "EvFb")
    (answer,) = replicas.fake.wait_for("chat.postMessage", timeout=ANSWER_WITHIN)
    element = next(b for b in answer.args["blocks"] if b["type"] == "context_actions")["elements"][0]
    helpful = element["positive_button"]["value"]  # "helpful:<question id>"
    question_id = helpful.split(":")[1]
    click = {"type": "block_actions", "user": {"id": "U1ALICE"}, "team": {"id": "T1"}, "api_app_id": "A1",
             "channel": {"id": "C1READING"}, "container": {"type": "message"},
             "trigger_id": "13345224609.738474920.feedback", "response_url": f"{replicas.slack_base}response/fb",
             "actions": [{"action_id": FEEDBACK_ACTION, "block_id": "answer_feedback", "value": helpful,
                          "type": "feedback_buttons", "action_ts": "1700000401.1"}]}
    assert send_interaction(replicas.urls[0], click).status_code == 200
    assert send_interaction(replicas.urls[1], click).status_code == 200
    replicas.fake.wait_for("response_url", timeout=ANSWER_WITHIN)
    _settle()
    with replicas.states[1].engine.connect() as conn:
        rows = conn.execute(sa.select(feedback.c.question_id, feedback.c.user_id, feedback.c.helpful)).all()
    assert [tuple(r) for r in rows] == [(int(question_id), "U1ALICE", True)]
    assert len(replicas.fake.of("response_url")) == 1


def test_a_retried_thread_start_greets_once_across_replicas(replicas):
    started = {"type": "assistant_thread_started", "event_ts": "1700000700.000100",
               "assistant_thread": {"user_id": "U1ALICE", "channel_id": "D1ALICE", "thread_ts": "1700000700.000100",
                                    "context": {}}}
    send_event(replicas.urls[0], started, "EvStarted")
    replicas.fake.wait_for("assistant.threads.setSuggestedPrompts", timeout=ANSWER_WITHIN)
    send_event(replicas.urls[1], started, "EvStarted", retry=1)
    _settle()
    assert len(replicas.fake.of("assistant.threads.setSuggestedPrompts")) == 1
    (greeting,) = replicas.fake.of("chat.postMessage")
    assert greeting.args["channel"] == "D1ALICE" and greeting.args["thread_ts"] == "1700000700.000100"


def test_delivery_keys():
    from paperbot.bot.state.once import delivery_key, message_key

    def event(kind: str, event_id: str) -> dict:
        return {"type": "event_callback", "event_id": event_id, "event": {"type": kind, "channel": "C1", "ts": "1.1"}}

    # messages are claimed by their listeners, per message; other events by event id
    assert delivery_key(event("app_mention", "Ev1")) is None and delivery_key(event("message", "Ev2")) is None
    assert delivery_key(event("app_home_opened", "Ev3")) == "event:Ev3"
    # a command or click without a trigger id: the same payload gives the same key, another payload another
    click = {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": "a", "action_ts": "1"}]}
    later = {**click, "actions": [{"action_id": "a", "action_ts": "2"}]}
    assert delivery_key(click) == delivery_key(json.loads(json.dumps(click))) != delivery_key(later)
    assert delivery_key({"command": "/paper", "trigger_id": "t-1"}) == "command:t-1"
    # keys fit the claims table, however long the ids
    assert len(message_key("T" * 200, "C1", "1.1")) <= 128 and len(delivery_key(event("x", "E" * 300))) <= 128
