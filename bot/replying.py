"""Answer a question in a Slack thread: the flow shared by mentions, DMs, follow-ups and the assistant pane."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from paperbot.bot.once import UNDELIVERED
from paperbot.bot.render import answer_message, apology_message, too_long_message
from paperbot.retrieval.types import Answer

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


@dataclass
class Deps:
    """What every listener needs; built once by `bot.app.build_app`."""

    settings: Any
    library: Any
    state: Any


def question_text(text: str) -> str:
    """The question without the bot's mention."""
    return " ".join(_MENTION.sub(" ", text or "").split())


def _post(client: WebClient, channel: str, thread_ts: str, message: tuple[str, list[dict]]) -> None:
    text, blocks = message
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)


def _stream(deps: Deps, client: WebClient, channel: str, thread_ts: str, question: str, history,
            team_id: str | None, user_id: str | None):
    """Stream the answer as the LLM writes it; the final message carries the verified sources."""
    streamer = client.chat_stream(channel=channel, thread_ts=thread_ts, recipient_team_id=team_id,
                                  recipient_user_id=user_id)
    answer = None
    for piece in deps.library.ask_stream(question, history):
        if isinstance(piece, Answer):
            answer = piece
        elif piece:
            streamer.append(markdown_text=piece)
    return answer, streamer


def answer_in_thread(deps: Deps, client: WebClient, *, channel: str, thread_ts: str, question: str,
                     team_id: str | None = None, user_id: str | None = None) -> Answer | None:
    """Answer ``question`` in the thread, with sources and feedback buttons; apologise on failure."""
    from paperbot.retrieval.answering import QuestionError  # the only answering error users should see verbatim

    limit = deps.settings.slack.max_question_chars
    if len(question) > limit:
        _post(client, channel, thread_ts, too_long_message(limit))
        return None
    history = deps.state.thread_history(channel, thread_ts)
    streamer = None
    try:
        if deps.settings.answerer_name != "local":
            answer, streamer = _stream(deps, client, channel, thread_ts, question, history, team_id, user_id)
        else:
            answer = deps.library.ask(question, history)
    except QuestionError as exc:
        _post(client, channel, thread_ts, (str(exc), [{"type": "section", "text": {"type": "plain_text", "text": str(exc)}}]))
        return None
    except Exception:
        log.exception("answering failed in %s/%s", channel, thread_ts)
        if streamer is not None:
            streamer.stop()
        _post(client, channel, thread_ts, apology_message())
        return None
    question_id = deps.state.record_question(
        question, channel=channel, thread_ts=thread_ts, answer=answer.answer,
        paper_ids=answer.paper_ids, abstained=answer.abstained)
    text, blocks = answer_message(answer, feedback_value=str(question_id))
    try:
        if streamer is not None:
            streamer.stop(blocks=blocks)
        else:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)
    except UNDELIVERED:
        deps.state.forget_question(question_id)  # never reached the thread: not answered (see bot/once.py)
        raise
    return answer
