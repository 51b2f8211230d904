"""Questions from channels (mentions), DMs, and follow-ups in threads the bot answered.

Follow-ups without a mention are answered as `bot.listeners.thread_policy` decides: by default only the
asker's questions, never thanks, chatter or messages to someone else.
"""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from ..state.once import handle_once, message_key
from ..deps import Deps
from ..replies.in_thread import ThreadReply
from ..replies.questions import Asked, question_text, reply_to_question
from .thread_policy import ThreadPolicy, mentions_user

log = logging.getLogger(__name__)
_IGNORED_SUBTYPES = {"bot_message", "message_changed", "message_deleted", "channel_join", "channel_leave",
                     "thread_broadcast", "file_share"}


def _from_a_bot(event: dict) -> bool:
    return bool(event.get("bot_id")) or event.get("subtype") in _IGNORED_SUBTYPES


def _allowed(deps: Deps, channel: str) -> bool:
    allowed = deps.settings.slack.allowed_channels
    return not allowed or channel in allowed


def register(app: App, deps: Deps) -> None:
    policy = ThreadPolicy(deps.settings.slack.thread_replies, deps.state, deps.library)

    def answer(client: WebClient, context: BoltContext, channel: str, ts: str, thread_ts: str, question: str,
               user: str | None) -> None:
        """Answer the message ``ts`` in its thread, once across replicas."""
        reply = ThreadReply(client, channel, thread_ts, team_id=context.team_id, user_id=user)
        handle_once(deps.state, message_key(context.team_id, channel, ts),
                    lambda: reply_to_question(deps, Asked(question, channel, thread_ts), reply))

    @app.event("app_mention")
    def on_mention(event: dict, client: WebClient, context: BoltContext) -> None:
        channel, ts = event.get("channel"), event.get("ts")
        if not channel or not ts or _from_a_bot(event) or not _allowed(deps, channel):
            return
        thread_ts = event.get("thread_ts") or ts
        if event.get("user"):
            deps.state.remember_asker(channel, thread_ts, event["user"])  # their follow-ups need no mention
        answer(client, context, channel, ts, thread_ts, question_text(event.get("text", "")), event.get("user"))

    @app.event("message")
    def on_message(event: dict, client: WebClient, context: BoltContext) -> None:
        channel, ts = event.get("channel"), event.get("ts")
        if not channel or not ts or _from_a_bot(event) or event.get("user") == context.bot_user_id:
            return
        text = event.get("text", "")
        if event.get("channel_type") == "im":
            thread_ts = event.get("thread_ts") or ts
            if not deps.library.is_question_for_bot(text):
                return  # "lol", "thanks!", an emoji: a DM gets the same quiet as a channel thread
        else:
            thread_ts = event.get("thread_ts")
            # In channels, mentions come as app_mention; the rest only in threads the bot answered.
            if not thread_ts or mentions_user(text, context.bot_user_id) or not _allowed(deps, channel):
                return
            if not policy.answers(channel=channel, thread_ts=thread_ts, user=event.get("user"), text=text,
                                  bot_user_id=context.bot_user_id):
                return
        answer(client, context, channel, ts, thread_ts, question_text(text), event.get("user"))
