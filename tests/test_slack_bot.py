"""Scenario tests: the real Bolt app over real HTTP, signed requests, a local fake Slack Web API."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from paperbot.bot.app import build_app
from paperbot.bot.render import FEEDBACK_UP, answer_message
from paperbot.bot.serve import serve_in_thread
from paperbot.bot.state import State
from paperbot.config import load_settings
from paperbot.retrieval.types import Answer, Citation
from tests.paper_slack_harness import SIGNING_SECRET, send_interaction, start_fake_slack

BOT_USER = "UBOT"  # what the fake answers to auth.test


class Bot:
    def __init__(self, fake, url, state, library, fake_server_base=""):
        self.fake, self.url, self.state, self.library = fake, url, state, library
        self.fake_server_base = fake_server_base

    def event(self, event: dict, event_id: str, retry: int | None = None, secret: str = SIGNING_SECRET):
        body = json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": event_id,
                           "event_time": int(time.time()), "event": event})
        timestamp = str(int(time.time()))
        headers = {"X-Slack-Request-Timestamp": timestamp, "Content-Type": "application/json",
                   "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)}
        if retry is not None:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        return httpx.post(self.url, content=body, headers=headers, timeout=10)

    def posts(self):
        return self.fake.of("chat.postMessage")


def _settings(tmp_path, slack_base, data_dir, **extra):
    return load_settings(data_dir=data_dir, slack_api_url=slack_base + "api/", slack_bot_token="xoxb-test",
                         slack_signing_secret=SIGNING_SECRET, **extra)


@pytest.fixture
def bot(shipped_library, tmp_path):
    fake, slack_server = start_fake_slack()
    slack_base = f"http://127.0.0.1:{slack_server.server_port}/"
    settings = _settings(tmp_path, slack_base, shipped_library.settings.data_dir)
    state = State(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    app = build_app(settings, shipped_library, state)
    server = serve_in_thread(app, settings)
    yield Bot(fake, f"http://127.0.0.1:{server.server_port}/slack/events", state, shipped_library, slack_base)
    server.shutdown()
    slack_server.shutdown()


def _mention(text: str, ts: str = "1700000001.000100", channel: str = "C1READING", **extra) -> dict:
    return {"type": "app_mention", "user": "U1ALICE", "text": f"<@{BOT_USER}> {text}", "channel": channel,
            "ts": ts, **extra}


def _all_text(call) -> str:
    return json.dumps(call.args.get("blocks", [])) + call.args.get("text", "")


def test_mention_gets_a_threaded_answer_with_sources(bot):
    response = bot.event(_mention("who wrote Reformer?"), "Ev1")
    assert response.status_code == 200
    post = bot.fake.wait_for("chat.postMessage")[0]
    assert post.args["thread_ts"] == "1700000001.000100" and post.args["channel"] == "C1READING"
    text = _all_text(post)
    assert "Nikita Kitaev" in text and "Sources" in text and "Reformer: The Efficient Transformer" in text
    assert any(b.get("type") == "actions" for b in post.args["blocks"])  # feedback buttons


def test_direct_message_is_answered(bot):
    bot.event({"type": "message", "channel_type": "im", "user": "U1ALICE", "channel": "D1",
               "text": "What dataset does the adaPool paper introduce?", "ts": "1700000002.000100"}, "Ev2")
    post = bot.fake.wait_for("chat.postMessage")[0]
    assert post.args["channel"] == "D1" and "Inter4K" in _all_text(post)


def test_thread_follow_up_uses_the_earlier_turns(bot):
    bot.event(_mention("What does the Reformer summary say about long texts?", ts="1700000003.000100"), "Ev3")
    bot.fake.wait_for("chat.postMessage")
    bot.event({"type": "message", "channel_type": "channel", "user": "U1ALICE", "channel": "C1READING",
               "text": "who wrote it?", "ts": "1700000003.000200", "thread_ts": "1700000003.000100"}, "Ev4")
    follow_up = bot.fake.wait_for("chat.postMessage", count=2)[1]
    assert follow_up.args["thread_ts"] == "1700000003.000100"
    assert "Nikita Kitaev" in _all_text(follow_up)


def test_channel_message_outside_a_bot_thread_is_ignored(bot):
    bot.event({"type": "message", "channel_type": "channel", "user": "U1ALICE", "channel": "C1READING",
               "text": "who wrote it?", "ts": "1700000004.000200", "thread_ts": "1700000004.000100"}, "Ev5")
    bot.event(_mention("who wrote Reformer?", ts="1700000004.000300"), "Ev6")
    bot.fake.wait_for("chat.postMessage")
    time.sleep(0.3)
    assert len(bot.posts()) == 1 and bot.posts()[0].args["thread_ts"] == "1700000004.000300"


def test_assistant_thread_start_suggests_prompts(bot):
    bot.event({"type": "assistant_thread_started", "event_ts": "1700000005.000100",
               "assistant_thread": {"user_id": "U1ALICE", "channel_id": "D1", "thread_ts": "1700000005.000100",
                                    "context": {}}}, "Ev7")
    prompts = bot.fake.wait_for("assistant.threads.setSuggestedPrompts")[0]
    assert "prompts" in prompts.args


def test_retried_event_is_answered_once(bot):
    bot.event(_mention("who wrote Reformer?"), "EvRetry")
    bot.event(_mention("who wrote Reformer?"), "EvRetry", retry=1)
    bot.fake.wait_for("chat.postMessage")
    time.sleep(0.5)
    assert len(bot.posts()) == 1


def test_two_replicas_sharing_state_answer_once(bot, shipped_library, tmp_path):
    # A second replica: its own app and HTTP server, the same state database and Slack.
    first_post = bot.event(_mention("who wrote Reformer?", ts="1700000006.000100"), "EvReplica")
    assert first_post.status_code == 200
    replica_settings = bot_settings(bot)
    replica_app = build_app(replica_settings, shipped_library, State(str(bot.state.engine.url)))
    replica = serve_in_thread(replica_app, replica_settings)
    try:
        replica_url = f"http://127.0.0.1:{replica.server_port}/slack/events"
        Bot(bot.fake, replica_url, bot.state, shipped_library).event(
            _mention("who wrote Reformer?", ts="1700000006.000100"), "EvReplica", retry=1)
        bot.fake.wait_for("chat.postMessage")
        time.sleep(0.5)
        assert len(bot.posts()) == 1
    finally:
        replica.shutdown()


def bot_settings(bot: Bot):
    base = bot.fake_server_base
    return load_settings(data_dir=bot.library.settings.data_dir, slack_api_url=base + "api/",
                         slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET)


def test_bad_signature_is_refused(bot):
    response = bot.event(_mention("who wrote Reformer?"), "EvBad", secret="not-the-secret")
    assert response.status_code == 401
    time.sleep(0.3)
    assert bot.posts() == []


def test_rate_limited_post_is_retried(bot):
    bot.fake.rate_limited["chat.postMessage"] = 1
    bot.event(_mention("who wrote Reformer?"), "Ev429")
    post = bot.fake.wait_for("chat.postMessage", timeout=15)[0]
    assert "Nikita Kitaev" in _all_text(post)
    assert [c.method for c in bot.fake.calls].count("chat.postMessage:429") == 1


def test_answerer_failure_becomes_an_apology(bot, caplog):
    def broken(question, history=()):
        raise ConnectionError("chroma server unreachable")

    bot.library.ask = broken
    bot.event(_mention("who wrote Reformer?"), "EvDown")
    post = bot.fake.wait_for("chat.postMessage")[0]
    assert "Sorry" in post.args["text"] and "chroma" not in _all_text(post)
    assert "chroma server unreachable" in caplog.text


def test_long_question_gets_the_limit_message(bot):
    bot.event(_mention("why " * 1000), "EvLong")
    post = bot.fake.wait_for("chat.postMessage")[0]
    assert "under 2000 characters" in post.args["text"]


def test_own_and_other_bots_messages_are_ignored(bot):
    bot.event({"type": "message", "channel_type": "im", "user": BOT_USER, "channel": "D1", "text": "hi",
               "ts": "1700000007.000100"}, "EvSelf")
    bot.event({"type": "message", "channel_type": "im", "bot_id": "B2", "channel": "D1", "text": "hello",
               "ts": "1700000007.000200", "subtype": "bot_message"}, "EvOtherBot")
    time.sleep(0.5)
    assert bot.posts() == []


def test_feedback_click_is_stored(bot):
    bot.event(_mention("who wrote Reformer?"), "EvFeedback")
    post = bot.fake.wait_for("chat.postMessage")[0]
    buttons = next(b for b in post.args["blocks"] if b["type"] == "actions")["elements"]
    question_id = buttons[0]["value"]
    response = send_interaction(bot.url, {
        "type": "block_actions", "user": {"id": "U1ALICE"}, "team": {"id": "T1"}, "api_app_id": "A1",
        "channel": {"id": "C1READING"}, "container": {"type": "message"}, "trigger_id": "t1",
        "response_url": f"{bot.fake_server_base}response/fb",
        "actions": [{"action_id": FEEDBACK_UP, "block_id": "answer_feedback", "value": question_id,
                     "type": "button", "action_ts": "1"}]})
    assert response.status_code == 200
    deadline = time.monotonic() + 5
    while not bot.state.feedback_for(int(question_id)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bot.state.feedback_for(int(question_id)) == [("U1ALICE", True)]


def test_health_endpoint(bot):
    assert httpx.get(bot.url.replace("/slack/events", "/healthz")).text == "ok"


def test_corpus_text_cannot_ping_anyone():
    answer = Answer(question="<@U123> hi", answer="See <!channel> & <!here> [1]", abstained=False, citations=[
        Citation(1, "p", "Title <!everyone>", "src.txt", "quoted <!channel> text", 0.9)])
    text, blocks = answer_message(answer, feedback_value="1")
    rendered = text + json.dumps(blocks)
    for ping in ("<!channel>", "<!here>", "<!everyone>", "<@U123>"):
        assert ping not in rendered
    assert "&lt;!channel&gt;" in rendered


def test_long_answer_respects_slack_limits():
    answer = Answer(question="q", answer="word " * 2000, abstained=False, citations=[
        Citation(i, "p", "T", "s", "snippet", 0.5) for i in range(1, 80)])
    _, blocks = answer_message(answer, feedback_value="1")
    assert len(blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)


def test_llm_answer_streams_into_the_thread(shipped_library, tmp_path):
    """With an LLM answerer the answer is streamed (chat.startStream/appendStream/stopStream)."""
    from paperbot.retrieval.library import Library
    from tests.fake_openai import FakeOpenAI, Reply

    fake, slack_server = start_fake_slack()
    slack_base = f"http://127.0.0.1:{slack_server.server_port}/"
    with FakeOpenAI() as llm:
        llm.script(Reply.answer("MuZero beats model-free methods on Atari [1].",
                                chunks=("MuZero beats ", "model-free methods ", "on Atari [1].")))
        settings = _settings(tmp_path, slack_base, shipped_library.settings.data_dir,
                             llm={"answerer": "openai", "base_url": llm.base_url, "model": "fake-chat"})
        app = build_app(settings, Library(settings), State(f"sqlite:///{tmp_path / 'state.sqlite3'}"))
        server = serve_in_thread(app, settings)
        try:
            Bot(fake, f"http://127.0.0.1:{server.server_port}/slack/events", None, None).event(
                _mention("What does MuZero beat on Atari?", ts="1700000009.000100"), "EvStream")
            stop = fake.wait_for("chat.stopStream", timeout=15)[0]
        finally:
            server.shutdown()
            slack_server.shutdown()
    started = fake.of("chat.startStream")[0]
    assert started.args["thread_ts"] == "1700000009.000100"
    calls = fake.of("chat.startStream") + fake.of("chat.appendStream") + [stop]
    streamed = "".join(c.args.get("markdown_text", "") + "".join(k.get("text", "") for k in c.args.get("chunks", []))
                       for c in calls)
    assert "MuZero beats model-free methods" in streamed
    assert "Sources" in json.dumps(stop.args.get("blocks", []))  # the verified sources come with the final message
    assert fake.of("chat.postMessage") == []
