"""Questions from channels (mentions), DMs, and follow-ups in threads the bot answered."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from paperbot.bot.once import handle_once, message_key
from paperbot.bot.replying import Deps, answer_in_thread, question_text

log = logging.getLogger(__name__)
_IGNORED_SUBTYPES = {"bot_message", "message_changed", "message_deleted", "channel_join", "channel_leave",
                     "thread_broadcast", "file_share"}


def _from_a_bot(event: dict) -> bool:
    return bool(event.get("bot_id")) or event.get("subtype") in _IGNORED_SUBTYPES


def _allowed(deps: Deps, channel: str) -> bool:
    allowed = deps.settings.slack.allowed_channels
    return not allowed or channel in allowed


def register(app: App, deps: Deps) -> None:
    @app.event("app_mention")
    def on_mention(event: dict, client: WebClient, context: BoltContext) -> None:
        if _from_a_bot(event) or not _allowed(deps, event["channel"]):
            return
        handle_once(deps.state, message_key(context.team_id, event["channel"], event["ts"]), lambda: answer_in_thread(
            deps, client, channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"],
            question=question_text(event.get("text", "")), team_id=context.team_id, user_id=event.get("user")))

    @app.event("message")
    def on_message(event: dict, client: WebClient, context: BoltContext) -> None:
        if _from_a_bot(event) or event.get("user") == context.bot_user_id:
            return
        channel = event.get("channel", "")
        text = event.get("text", "")
        if event.get("channel_type") == "im":
            thread_ts = event.get("thread_ts") or event["ts"]
        else:
            thread_ts = event.get("thread_ts")
            mentioned = context.bot_user_id and f"<@{context.bot_user_id}>" in text
            # In channels, only follow-ups in a thread the bot answered; mentions come as app_mention.
            if not thread_ts or mentioned or not deps.state.is_bot_thread(channel, thread_ts):
                return
        if not _allowed(deps, channel) and event.get("channel_type") != "im":
            return
        handle_once(deps.state, message_key(context.team_id, channel, event["ts"]), lambda: answer_in_thread(
            deps, client, channel=channel, thread_ts=thread_ts, question=question_text(text),
            team_id=context.team_id, user_id=event.get("user")))
