"""Scenario tests: the real Bolt app over real HTTP, signed requests, a local fake Slack Web API."""

from __future__ import annotations

import json
import time

import httpx

from paperbot.bot.app import build_app
from paperbot.bot.blocks.feedback_buttons import FEEDBACK_ACTION
from paperbot.bot.blocks.answers import answer_message
from paperbot.bot.web.server import serve_in_thread
from paperbot.bot.state.store import State
from paperbot.retrieval.types import Answer, Citation
from tests.paper_slack_harness import (  # noqa: F401 (fixtures)
    BOT_USER,
    Bot,
    bot,
    bot_settings,
    make_bot,
    send_command,
    send_interaction,
    start_fake_slack,
)


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
    # Exactly the rendered answer, 👍/👎 as the native feedback buttons of the logged question.
    (question_id,) = _logged_ids(bot, "C1READING", "1700000001.000100")
    text, blocks = answer_message(bot.library.ask("who wrote Reformer?"), feedback_value=str(question_id))
    assert (post.args["text"], post.args["blocks"]) == (text, blocks)
    assert blocks[-1] == {"type": "context_actions", "block_id": "answer_feedback", "elements": [{
        "type": "feedback_buttons", "action_id": FEEDBACK_ACTION,
        "positive_button": {"text": {"type": "plain_text", "text": "👍 Helpful", "emoji": True},
                            "value": f"helpful:{question_id}", "accessibility_label": "This answer was helpful"},
        "negative_button": {"text": {"type": "plain_text", "text": "👎 Not helpful", "emoji": True},
                            "value": f"not_helpful:{question_id}",
                            "accessibility_label": "This answer was not helpful"}}]}
    assert [c.method for c in bot.fake.chat_calls()] == ["chat.postMessage"]


def _logged_ids(bot, channel: str, thread_ts: str) -> list[int]:
    import sqlalchemy as sa

    from paperbot.bot.state.store import questions

    with bot.state.engine.connect() as conn:
        return [row.id for row in conn.execute(sa.select(questions.c.id).where(
            questions.c.channel == channel, questions.c.thread_ts == thread_ts).order_by(questions.c.id))]


def test_paper_ask_logs_the_question_as_a_mention_does(bot):
    """One question -> reply flow: `/paper ask` logs the answer, its papers and where it was asked, as a mention does."""
    import sqlalchemy as sa

    from paperbot.bot.state.store import questions

    bot.event(_mention("who wrote Reformer?", ts="1700000009.000100"), "Ev9")
    bot.fake.wait_for("chat.postMessage")
    send_command(bot.url, "ask who wrote Reformer?",
                 response_url=f"{bot.fake_server_base}response/ask")
    bot.fake.wait_for("response_url")
    with bot.state.engine.connect() as conn:
        mention, command = conn.execute(sa.select(questions).order_by(questions.c.id)).all()
    assert mention.channel == command.channel == "C1READING"
    assert (mention.thread_ts, command.thread_ts) == ("1700000009.000100", None)  # a slash command has no thread

    def logged(row) -> tuple:
        return row.text, row.answer, json.loads(row.paper_ids), row.abstained

    assert logged(command) == logged(mention)
    assert "Nikita Kitaev" in command.answer and json.loads(command.paper_ids)


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
    replica_settings = bot_settings(shipped_library.settings.data_dir, bot.fake_server_base)
    replica = serve_in_thread(build_app(replica_settings, shipped_library, State(str(bot.state.engine.url))),
                              replica_settings)
    try:
        replica_url = f"http://127.0.0.1:{replica.server_port}/slack/events"
        Bot(bot.fake, replica_url, bot.state, shipped_library).event(
            _mention("who wrote Reformer?", ts="1700000006.000100"), "EvReplica", retry=1)
        bot.fake.wait_for("chat.postMessage")
        time.sleep(0.5)
        assert len(bot.posts()) == 1
    finally:
        replica.shutdown()


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
    def broken(question, history=(), scope=()):  # Library.ask's signature
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


def _feedback_click(bot, post, user: str, button: str, name: str) -> httpx.Response:
    """A click on the answer's native feedback button, as Slack delivers it (block_actions)."""
    element = post.args["blocks"][-1]["elements"][0]
    pressed = element[button]
    return send_interaction(bot.url, {
        "type": "block_actions", "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
        "api_app_id": "A1", "token": "legacy-verification-token", "trigger_id": f"1111.2222.{user}.{name}",
        "team": {"id": "T1", "domain": "reading-group"}, "enterprise": None, "is_enterprise_install": False,
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "C1READING",
                      "is_ephemeral": False, "thread_ts": post.args["thread_ts"]},
        "channel": {"id": "C1READING", "name": "reading-group"},
        "message": {"type": "message", "subtype": "bot_message", "user": BOT_USER, "bot_id": "BBOT",
                    "ts": "1700000000.000001", "thread_ts": post.args["thread_ts"], "text": post.args["text"],
                    "blocks": post.args["blocks"]},
        "state": {"values": {}},
        "response_url": f"{bot.fake_server_base}response/{name}",
        "actions": [{"type": "feedback_buttons", "action_id": element["action_id"], "block_id": "answer_feedback",
                     "value": pressed["value"], "text": pressed["text"], "action_ts": "1700000010.000200"}]})


def test_native_feedback_buttons_are_stored_and_thanked(bot):
    bot.event(_mention("who wrote Reformer?"), "EvFeedback")
    post = bot.fake.wait_for("chat.postMessage")[0]
    (question_id,) = _logged_ids(bot, "C1READING", "1700000001.000100")
    assert _feedback_click(bot, post, "U1ALICE", "positive_button", "up").status_code == 200
    assert _feedback_click(bot, post, "U2BOB", "negative_button", "down").status_code == 200
    thanks = bot.fake.wait_for("response_url", count=2)
    assert sorted(c.path for c in thanks) == ["/response/down", "/response/up"]
    assert all(c.args == {"text": "Thanks for the feedback!", "response_type": "ephemeral",
                          "replace_original": False} for c in thanks)
    assert sorted(bot.state.feedback_for(question_id)) == [("U1ALICE", True), ("U2BOB", False)]
    assert [c.method for c in bot.fake.chat_calls()] == ["chat.postMessage"]  # the answer, nothing more


def test_a_click_on_an_older_answers_button_still_counts(bot):
    """Answers posted before the native element carry two ordinary buttons whose value is the id."""
    question_id = bot.state.record_question("who wrote Reformer?", channel="C1READING", thread_ts="1.0", answer="…")
    send_interaction(bot.url, {
        "type": "block_actions", "user": {"id": "U1ALICE"}, "team": {"id": "T1"}, "api_app_id": "A1",
        "channel": {"id": "C1READING"}, "container": {"type": "message"}, "trigger_id": "t1",
        "response_url": f"{bot.fake_server_base}response/old",
        "actions": [{"action_id": "answer_feedback_down", "block_id": "answer_feedback", "value": str(question_id),
                     "type": "button", "action_ts": "1"}]})
    bot.fake.wait_for("response_url")
    assert bot.state.feedback_for(question_id) == [("U1ALICE", False)]


def test_events_without_a_channel_are_refused_quietly(bot, caplog):
    """Signed but malformed: the HTTP gate answers 400 before any listener runs; nothing is posted."""
    for event_id, event in [
        ("EvNoChannel1", {"type": "message", "channel_type": "im", "user": "U1ALICE", "text": "hi", "ts": "1.1"}),
        ("EvNoChannel2", {"type": "message", "channel_type": "channel", "user": "U1ALICE", "text": "who wrote it?",
                          "ts": "1.2", "thread_ts": "1.0"}),
        ("EvNoChannel3", {"type": "app_mention", "user": "U1ALICE", "text": f"<@{BOT_USER}> hi", "ts": "1.3"}),
    ]:
        assert bot.event(event, event_id).status_code == 400
    time.sleep(0.5)
    assert bot.fake.chat_calls() == []
    assert "Traceback" not in caplog.text and "KeyError" not in caplog.text


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


def test_an_off_corpus_refusal_names_each_nearest_paper_once(bot):
    question = "what learning rate schedule does the original transformer use for warmup?"
    bot.event(_mention(question, ts="1700000009.000100"), "EvOff1")
    post = bot.fake.wait_for("chat.postMessage")[0]
    answer = bot.library.ask(question)
    assert answer.abstained and answer.answer.startswith("That's not in our papers") and answer.suggestions
    blocks_text = json.dumps(post.args["blocks"], ensure_ascii=False)
    for suggestion in answer.suggestions:
        assert blocks_text.count(suggestion.title) == 1, suggestion.title
    assert post.args["text"] == answer.answer and "Nearest papers" not in blocks_text
