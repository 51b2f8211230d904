"""Thread replies people expect, over real HTTP against the fake Slack: in a channel thread the bot
answered, it replies without a mention only to the asker's questions for it (by default); thanks,
chatter and messages addressed to someone else get nothing. `PAPERBOT_SLACK__THREAD_REPLIES`
widens (anyone) or narrows (mentions) that."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from paperbot.bot.blocks.answers import answer_message
from tests.paper_slack_harness import BOT_USER, bot, make_bot  # noqa: F401 (fixtures)

CHANNEL = "C1READING"
ALICE, BOB, CAROL = "U1ALICE", "U2BOB", "U3CAROL"
QUIET = 1.0  # seconds to wait for a reply that must not come


class Thread:
    """A channel thread started by mentioning the bot."""

    def __init__(self, bot, ts: str):
        self.bot, self.ts, self._n = bot, ts, 0

    def mention(self, user: str, text: str, *, top_level: bool = False) -> None:
        ts = self.ts if top_level else self._next_ts()
        event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "channel": CHANNEL, "ts": ts,
                 "event_ts": ts, "team": "T1"}
        if not top_level:
            event["thread_ts"] = self.ts
        assert self.bot.event(event, f"Ev{ts}").status_code == 200

    def say(self, user: str, text: str) -> None:
        """A plain message in the thread (Slack's message.channels event)."""
        ts = self._next_ts()
        assert self.bot.event({"type": "message", "channel": CHANNEL, "channel_type": "channel", "user": user,
                               "text": text, "ts": ts, "event_ts": ts, "thread_ts": self.ts, "team": "T1"},
                              f"Ev{ts}").status_code == 200

    def _next_ts(self) -> str:
        self._n += 1
        return f"{self.ts[:-3]}{self._n:03d}"


def _answers(bot) -> list:
    return bot.fake.of("chat.postMessage")


def _expected(bot, question: str, history, question_id: int):
    return answer_message(bot.library.ask(question, history), feedback_value=str(question_id))


def _logged(bot, thread_ts: str) -> list[tuple[int, str]]:
    from paperbot.bot.state.store import questions

    with bot.state.engine.connect() as conn:
        return [(row.id, row.text) for row in conn.execute(
            sa.select(questions.c.id, questions.c.text).where(questions.c.thread_ts == thread_ts).order_by(questions.c.id))]


def _start(bot, ts: str = "1700000100.000000") -> Thread:
    thread = Thread(bot, ts)
    thread.mention(ALICE, "who wrote Reformer?", top_level=True)
    bot.fake.wait_for("chat.postMessage")
    return thread


def test_thanks_chatter_and_messages_to_someone_else_get_no_reply(bot):
    thread = _start(bot)
    thread.say(ALICE, "thanks, that's helpful!")
    thread.say(ALICE, "lol")
    thread.say(ALICE, f"<@{CAROL}> did you read this one?")  # how Slack delivers "@carol did you read this one?"
    thread.say(ALICE, "@alice did you read this one?")  # typed without Slack turning it into a mention
    thread.say(ALICE, "<!subteam^S0READERS> worth a look before Friday?")
    time.sleep(QUIET)
    assert [c.method for c in bot.fake.chat_calls()] == ["chat.postMessage"]  # only the first answer
    assert [text for _, text in _logged(bot, thread.ts)] == ["who wrote Reformer?"]


def test_the_askers_follow_up_question_is_answered_with_the_thread_so_far(bot):
    thread = _start(bot)
    thread.say(ALICE, "thanks!")
    thread.say(ALICE, "what complexity does its attention get down to?")
    second = bot.fake.wait_for("chat.postMessage", count=2)[1]
    time.sleep(QUIET)
    assert len(_answers(bot)) == 2
    assert second.args["channel"] == CHANNEL and second.args["thread_ts"] == thread.ts
    (first_id, _), (second_id, asked) = _logged(bot, thread.ts)
    assert asked == "what complexity does its attention get down to?"
    history = bot.state.thread_history(CHANNEL, thread.ts)[:1]
    text, blocks = _expected(bot, asked, history, second_id)
    assert (second.args["text"], second.args["blocks"]) == (text, blocks)
    assert "complexity" in second.args["text"]


def test_someone_elses_question_waits_for_a_mention_then_their_follow_ups_count(bot):
    thread = _start(bot)
    thread.say(BOB, "who presented it?")
    time.sleep(QUIET)
    assert len(_answers(bot)) == 1  # Bob didn't ask the bot here
    thread.mention(BOB, "does the summary say anything about Crime and Punishment?")
    bot.fake.wait_for("chat.postMessage", count=2)
    thread.say(BOB, "and how much faster is it to train?")
    third = bot.fake.wait_for("chat.postMessage", count=3)[2]
    assert third.args["thread_ts"] == thread.ts
    assert [text for _, text in _logged(bot, thread.ts)] == [
        "who wrote Reformer?", "does the summary say anything about Crime and Punishment?",
        "and how much faster is it to train?"]


def test_anyone_setting_answers_everyones_questions_but_still_not_chatter(make_bot):
    bot = make_bot(slack={"thread_replies": "anyone"})
    thread = _start(bot)
    thread.say(BOB, "nice, thx")
    thread.say(CAROL, f"<@{BOB}> are you presenting this one?")
    thread.say(BOB, "what complexity does its attention get down to?")
    bot.fake.wait_for("chat.postMessage", count=2)
    time.sleep(QUIET)
    assert [text for _, text in _logged(bot, thread.ts)] == [
        "who wrote Reformer?", "what complexity does its attention get down to?"]
    assert len(_answers(bot)) == 2


def test_mentions_setting_answers_only_mentions(make_bot):
    bot = make_bot(slack={"thread_replies": "mentions"})
    thread = _start(bot)
    thread.say(ALICE, "what complexity does its attention get down to?")
    time.sleep(QUIET)
    assert len(_answers(bot)) == 1
    thread.mention(ALICE, "what complexity does its attention get down to?")
    assert bot.fake.wait_for("chat.postMessage", count=2)[1].args["thread_ts"] == thread.ts


def test_a_message_in_a_thread_the_bot_never_answered_gets_nothing(bot):
    bot.state.remember_asker(CHANNEL, "1700000200.000000", ALICE)  # asked, but no answer went out
    Thread(bot, "1700000200.000000").say(ALICE, "who wrote Reformer?")
    time.sleep(QUIET)
    assert bot.fake.chat_calls() == []


def test_who_asked_is_kept_apart_from_what_the_digest_reads(bot):
    from paperbot.bot.weekly_digest import DigestLedger, build_digest
    from paperbot.bot.blocks.digest_blocks import digest_message
    from paperbot.bot.state.store import questions

    thread = _start(bot)
    assert bot.state.is_asker(CHANNEL, thread.ts, ALICE) and not bot.state.is_asker(CHANNEL, thread.ts, BOB)
    # The question log the digest reads has no column for people; askers live in their own table.
    assert not {c.name for c in questions.columns} & {"user", "user_id", "asker"}
    now = datetime.now(timezone.utc)
    assert [text for text, _ in bot.state.questions_between(now - timedelta(days=1), now)] == ["who wrote Reformer?"]
    text, blocks = digest_message(build_digest(bot.library, DigestLedger(bot.state.engine), bot.state, now))
    rendered = text + json.dumps(blocks)
    assert "who wrote Reformer?" in rendered and ALICE not in rendered
