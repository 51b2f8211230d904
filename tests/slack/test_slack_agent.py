"""The bot's own conversation surface, over real HTTP against the fake Slack: Slack's Agent messaging
experience (the Messages tab: a greeting on the first visit, suggested prompts on every visit,
questions answered in their thread) and the older assistant pane existing apps keep."""

from __future__ import annotations

import time

import sqlalchemy as sa

from paperbot.bot.listeners.assistant import GREETING, PROMPTS_TITLE, SUGGESTED_PROMPTS
from paperbot.bot.blocks.answers import answer_message
from tests.paper_slack_harness import bot, make_bot  # noqa: F401 (fixtures)

ALICE, BOB = "U1ALICE", "U2BOB"
DM = {ALICE: "D1ALICE", BOB: "D2BOB"}


def _open(bot, user: str, tab: str, event_id: str) -> None:
    # app_home_opened as Slack sends it when someone opens the app's Messages (or Home) tab.
    event = {"type": "app_home_opened", "user": user, "channel": DM[user], "tab": tab,
             "event_ts": f"{time.time():.6f}"}
    assert bot.event(event, event_id).status_code == 200


def _prompts_call(user: str, thread_ts: str | None = None) -> dict:
    # slack-sdk adds the workspace (team_id) Bolt's context carries to every call.
    args = {"channel_id": DM[user], "prompts": SUGGESTED_PROMPTS, "title": PROMPTS_TITLE, "team_id": "T1"}
    return {**args, "thread_ts": thread_ts} if thread_ts else args


def _question_ids(bot, channel: str, thread_ts: str) -> list[int]:
    from paperbot.bot.state.store import questions

    with bot.state.engine.connect() as conn:
        return [row.id for row in conn.execute(sa.select(questions.c.id).where(
            questions.c.channel == channel, questions.c.thread_ts == thread_ts).order_by(questions.c.id))]


def test_opening_the_messages_tab_greets_once_per_person_and_always_suggests_prompts(bot):
    _open(bot, ALICE, "messages", "EvOpen1")
    bot.fake.wait_for("assistant.threads.setSuggestedPrompts")
    _open(bot, ALICE, "messages", "EvOpen2")
    _open(bot, BOB, "messages", "EvOpen3")
    prompts = bot.fake.wait_for("assistant.threads.setSuggestedPrompts", count=3)
    time.sleep(0.3)
    greetings = bot.fake.chat_calls()
    assert sorted((c.method, c.args["channel"], c.args["text"]) for c in greetings) == [
        ("chat.postMessage", DM[ALICE], GREETING), ("chat.postMessage", DM[BOB], GREETING)]
    assert sorted((c.args for c in prompts), key=lambda a: a["channel_id"]) == [
        _prompts_call(ALICE), _prompts_call(ALICE), _prompts_call(BOB)]
    assert bot.fake.of("views.publish") == []  # the Home tab is a different tab


def test_the_home_tab_publishes_the_home_view_and_posts_nothing(bot):
    _open(bot, ALICE, "home", "EvHome")
    (published,) = bot.fake.wait_for("views.publish")
    assert published.args["user_id"] == ALICE and published.args["view"]["type"] == "home"
    time.sleep(0.3)
    assert bot.fake.chat_calls() == [] and bot.fake.of("assistant.threads.setSuggestedPrompts") == []


def test_a_greeting_that_could_not_be_posted_comes_on_the_next_visit(bot):
    bot.fake.fail_methods.add("chat.postMessage")
    _open(bot, ALICE, "messages", "EvFail1")
    bot.fake.wait_for("chat.postMessage")
    time.sleep(0.3)
    bot.fake.fail_methods.clear()
    _open(bot, ALICE, "messages", "EvFail2")
    posted = bot.fake.wait_for("chat.postMessage", count=2)
    assert [(c.args["channel"], c.args["text"]) for c in posted] == [(DM[ALICE], GREETING)] * 2
    _open(bot, ALICE, "messages", "EvFail3")
    bot.fake.wait_for("assistant.threads.setSuggestedPrompts", count=2)
    time.sleep(0.3)
    assert len(bot.fake.of("chat.postMessage")) == 2  # greeted once it worked, then never again


def test_a_question_in_the_messages_tab_is_answered_in_its_thread_and_so_is_the_follow_up(bot):
    ts = "1700000300.000100"
    bot.event({"type": "message", "channel": DM[ALICE], "channel_type": "im", "user": ALICE,
               "text": "What does the Reformer summary say about long texts?", "ts": ts, "event_ts": ts}, "EvDm1")
    first = bot.fake.wait_for("chat.postMessage")[0]
    (first_id,) = _question_ids(bot, DM[ALICE], ts)
    text, blocks = answer_message(bot.library.ask("What does the Reformer summary say about long texts?"),
                                  feedback_value=str(first_id))
    assert (first.args["channel"], first.args["thread_ts"], first.args["text"], first.args["blocks"]) == (
        DM[ALICE], ts, text, blocks)

    # A reply in that thread: an assistant-thread message (Bolt's Assistant), with a title and a status.
    bot.event({"type": "message", "channel": DM[ALICE], "channel_type": "im", "user": ALICE,
               "text": "who wrote it?", "ts": "1700000300.000200", "thread_ts": ts, "event_ts": "1700000300.000200"},
              "EvDm2")
    second = bot.fake.wait_for("chat.postMessage", count=2)[1]
    assert bot.fake.of("assistant.threads.setTitle")[0].args == {
        "channel_id": DM[ALICE], "thread_ts": ts, "title": "who wrote it?", "team_id": "T1"}
    assert bot.fake.of("assistant.threads.setStatus")[0].args["status"] == "is reading the summaries…"
    _, second_id = _question_ids(bot, DM[ALICE], ts)
    history = bot.state.thread_history(DM[ALICE], ts)[:1]
    text, blocks = answer_message(bot.library.ask("who wrote it?", history), feedback_value=str(second_id))
    assert (second.args["thread_ts"], second.args["text"], second.args["blocks"]) == (ts, text, blocks)
    assert "Nikita Kitaev" in text
    assert [c.method for c in bot.fake.chat_calls()] == ["chat.postMessage", "chat.postMessage"]


def test_the_assistant_pane_of_existing_apps_still_greets_and_answers(bot):
    thread_ts = "1700000400.000100"
    bot.event({"type": "assistant_thread_started", "event_ts": thread_ts,
               "assistant_thread": {"user_id": ALICE, "channel_id": DM[ALICE], "thread_ts": thread_ts,
                                    "context": {"channel_id": "C1READING", "team_id": "T1"}}}, "EvPane1")
    prompts = bot.fake.wait_for("assistant.threads.setSuggestedPrompts")[0]
    greeting = bot.fake.wait_for("chat.postMessage")[0]
    assert prompts.args == _prompts_call(ALICE, thread_ts)
    assert (greeting.args["channel"], greeting.args["thread_ts"], greeting.args["text"]) == (DM[ALICE], thread_ts, GREETING)
    bot.event({"type": "message", "channel": DM[ALICE], "channel_type": "im", "user": ALICE, "text": "who wrote Reformer?",
               "ts": "1700000400.000200", "thread_ts": thread_ts, "event_ts": "1700000400.000200"}, "EvPane2")
    answer = bot.fake.wait_for("chat.postMessage", count=2)[1]
    (question_id,) = _question_ids(bot, DM[ALICE], thread_ts)
    text, blocks = answer_message(bot.library.ask("who wrote Reformer?"), feedback_value=str(question_id))
    assert (answer.args["thread_ts"], answer.args["text"], answer.args["blocks"]) == (thread_ts, text, blocks)


def test_chatter_in_a_dm_gets_no_reply_at_top_level_or_in_an_answered_thread(bot):
    for n, chatter in enumerate(["lol", "thanks!", ":+1:"]):
        ts = f"1700000500.00010{n}"
        bot.event({"type": "message", "channel": DM[ALICE], "channel_type": "im", "user": ALICE, "text": chatter,
                   "ts": ts, "event_ts": ts}, f"EvChat{n}")
    ts = "1700000500.000200"
    bot.event({"type": "message", "channel": DM[ALICE], "channel_type": "im", "user": ALICE,
               "text": "who wrote Reformer?", "ts": ts, "event_ts": ts}, "EvChatQ")
    first = bot.fake.wait_for("chat.postMessage")[0]
    assert first.args["thread_ts"] == ts and "Nikita Kitaev" in first.args["text"]
    for n, chatter in enumerate(["lol", "ok cool", "thanks!"]):
        reply_ts = f"1700000500.00030{n}"
        bot.event({"type": "message", "channel": DM[ALICE], "channel_type": "im", "user": ALICE, "text": chatter,
                   "ts": reply_ts, "thread_ts": ts, "event_ts": reply_ts}, f"EvChatT{n}")
    bot.event({"type": "message", "channel": DM[ALICE], "channel_type": "im", "user": ALICE, "text": "who presented it?",
               "ts": "1700000500.000400", "thread_ts": ts, "event_ts": "1700000500.000400"}, "EvChatF")
    second = bot.fake.wait_for("chat.postMessage", count=2)[1]
    time.sleep(0.5)
    # Exactly two messages reached Slack, both answers: no quote, no refusal, no retitling for chatter.
    assert [c.method for c in bot.fake.chat_calls()] == ["chat.postMessage", "chat.postMessage"]
    assert second.args["thread_ts"] == ts and "presented" in second.args["text"]
    assert [c.args["title"] for c in bot.fake.of("assistant.threads.setTitle")] == ["who presented it?"]
