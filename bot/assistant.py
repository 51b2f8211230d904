"""Slack's AI assistant pane: suggested prompts on a new thread, a status while working, a title."""

from __future__ import annotations

from slack_bolt import Assistant, BoltContext, Say, SetStatus, SetSuggestedPrompts, SetTitle
from slack_sdk import WebClient

from paperbot.bot.once import handle_once, message_key
from paperbot.bot.replying import Deps, answer_in_thread

SUGGESTED_PROMPTS = [
    {"title": "What have we read lately?", "message": "What have we read about active learning?"},
    {"title": "Who presented what?", "message": "Which papers did Hongbo Tian present?"},
    {"title": "Ask about a paper", "message": "What does the Reformer summary say about long texts?"},
]


def build_assistant(deps: Deps) -> Assistant:
    assistant = Assistant()

    @assistant.thread_started
    def start(say: Say, set_suggested_prompts: SetSuggestedPrompts) -> None:
        say("Hi! Ask me anything about the papers our group has read — I answer with quotes and sources.")
        set_suggested_prompts(prompts=SUGGESTED_PROMPTS)

    @assistant.user_message
    def respond(payload: dict, client: WebClient, context: BoltContext, set_status: SetStatus,
                set_title: SetTitle) -> None:
        question = payload.get("text", "")

        def reply() -> None:
            set_title(question[:80] or "Question")
            set_status("is reading the summaries…")
            answer_in_thread(deps, client, channel=payload["channel"], thread_ts=payload["thread_ts"],
                             question=question, team_id=context.team_id, user_id=payload.get("user"))

        handle_once(deps.state, message_key(context.team_id, payload["channel"], payload["ts"]), reply)

    return assistant
