"""The bot's own conversation surface: Slack's Agent messaging experience (the app's Messages tab,
`features.agent_view` in the manifest), and the older AI assistant pane (`assistant_view`) that
workspaces set up before it keep.

- Opening the Messages tab (`app_home_opened` with ``tab == "messages"``) sets the suggested
  prompts and, on a person's first visit only, posts a greeting.
- A message there is answered in its thread: a new message by `bot.listeners.events` (a DM), a reply in a
  thread by the assistant listener below, with a status while it works and a thread title.
- The assistant pane's `assistant_thread_started` greets and suggests prompts per thread, as before.
"""

from __future__ import annotations

import logging

from slack_bolt import App, Assistant, BoltContext, Say, SetStatus, SetSuggestedPrompts, SetTitle
from slack_sdk import WebClient

from ..state.once import handle_once, message_key
from ..deps import Deps
from ..replies.in_thread import ThreadReply
from ..replies.questions import Asked, reply_to_question

log = logging.getLogger(__name__)

GREETING = "Hi! Ask me anything about the papers our group has read — I answer with quotes and sources."
PROMPTS_TITLE = "Try asking"
SUGGESTED_PROMPTS = [
    {"title": "What have we read lately?", "message": "What have we read about active learning?"},
    {"title": "Who presented what?", "message": "Which papers did Hongbo Tian present?"},
    {"title": "Ask about a paper", "message": "What does the Reformer summary say about long texts?"},
]


def _messages_tab(event: dict) -> bool:
    return event.get("tab") == "messages"


def build_assistant(deps: Deps) -> Assistant:
    """Listeners for assistant threads (the assistant pane, and replies in Messages-tab threads)."""
    assistant = Assistant()

    @assistant.thread_started
    def start(say: Say, set_suggested_prompts: SetSuggestedPrompts) -> None:
        say(GREETING)
        set_suggested_prompts(prompts=SUGGESTED_PROMPTS, title=PROMPTS_TITLE)

    @assistant.user_message
    def respond(payload: dict, client: WebClient, context: BoltContext, set_status: SetStatus,
                set_title: SetTitle) -> None:
        channel, thread_ts = payload.get("channel"), payload.get("thread_ts")
        if not channel or not thread_ts:
            return
        question = payload.get("text", "")
        if not deps.library.is_question_for_bot(question):
            return  # thanks and chatter in an assistant thread get no quote and no refusal

        def reply() -> None:
            set_title(question[:80] or "Question")
            set_status("is reading the summaries…")
            reply_to_question(deps, Asked(question, channel, thread_ts), ThreadReply(
                client, channel, thread_ts, team_id=context.team_id, user_id=payload.get("user")))

        handle_once(deps.state, message_key(context.team_id, channel, payload.get("ts") or thread_ts), reply)

    return assistant


def register(app: App, deps: Deps) -> None:
    app.use(build_assistant(deps))

    @app.event("app_home_opened", matchers=[_messages_tab])
    def open_messages_tab(event: dict, say: Say, set_suggested_prompts: SetSuggestedPrompts) -> None:
        """The Agent messaging experience's start: a greeting on the first visit, prompts on every one."""
        user = event.get("user")
        if user and deps.state.claim_greeting(user):
            try:
                say(GREETING)
            except Exception:
                deps.state.release_greeting(user)  # greet them next time instead of never
                raise
        set_suggested_prompts(prompts=SUGGESTED_PROMPTS, title=PROMPTS_TITLE)
