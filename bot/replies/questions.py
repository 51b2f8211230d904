"""Answer a question in a Slack thread: the flow shared by mentions, DMs, follow-ups and the assistant pane."""

from __future__ import annotations

import logging
import re
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ..state.once import UNDELIVERED
from ..blocks.answers import answer_message, apology_message, too_long_message
from ..blocks.slack_text import escape, safe_url
from ..deps import Deps
from ...retrieval.types import Answer, Progress

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def question_text(text: str) -> str:
    """The question without the bot's mention."""
    return " ".join(_MENTION.sub(" ", text or "").split())


def _post(client: WebClient, channel: str, thread_ts: str, message: tuple[str, list[dict]]) -> None:
    text, blocks = message
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)


def _task(progress: Progress, status: str, **extra) -> dict:
    return {"type": "task_update", "id": progress.step, "title": progress.title[:256], "status": status, **extra}


def _sources(answer: Answer) -> dict:
    """The cited papers, for the last step's card: links where the corpus has them, else their titles."""
    links = [{"type": "url", "url": url, "text": escape(c.title)[:256]}
             for c in answer.citations if (url := safe_url(c.url))]
    if links:
        return {"sources": links}
    titles = "; ".join(dict.fromkeys(escape(c.title) for c in answer.citations))
    return {"output": f"Quoted from {titles}"[:256]} if titles else {}


class _ProgressCards:
    """Answering's steps as task cards on a streamed message: the only thing streamed.

    The answer itself goes out once, as the final blocks, after its claims were checked; a
    language model's unchecked text never reaches Slack.
    """

    def __init__(self, streamer):
        self.streamer = streamer
        self.current: Progress | None = None

    def show(self, progress: Progress) -> None:
        chunks = [_task(self.current, "complete")] if self.current else []
        try:
            self.streamer.append(chunks=[*chunks, _task(progress, "in_progress")])
        except SlackApiError as exc:  # progress is a courtesy: the answer still comes
            log.warning("could not show progress (%s)", exc.response.get("error"))
            return
        self.current = progress

    def finish(self, answer: Answer | None, blocks: list[dict]) -> None:
        """Close the last card (with the sources, or as failed) and put ``blocks`` below the cards."""
        chunks = []
        if self.current:
            extra = _sources(answer) if answer else {}
            chunks = [_task(self.current, "complete" if answer else "error", **extra)]
        self.streamer.stop(chunks=chunks, blocks=blocks)


def _stream(deps: Deps, cards: _ProgressCards, question: str, history) -> Answer:
    """Show each step of answering on the cards; the verified Answer comes back."""
    for item in deps.library.ask_stream(question, history):
        if isinstance(item, Answer):
            return item
        cards.show(item)
    raise RuntimeError("the answer stream ended without an answer")


def _deliver(client: WebClient, cards: _ProgressCards, channel: str, thread_ts: str, answer: Answer | None,
             message: tuple[str, list[dict]]) -> None:
    """End the streamed message with the final blocks; if Slack lost the stream, replace or post it."""
    text, blocks = message
    try:
        cards.finish(answer, blocks)
    except SlackApiError as exc:
        log.warning("chat.stopStream failed (%s); sending the answer another way", exc.response.get("error"))
        if cards.streamer.ts:
            client.chat_update(channel=channel, ts=cards.streamer.ts, text=text, blocks=blocks)
        else:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)


def answer_in_thread(deps: Deps, client: WebClient, *, channel: str, thread_ts: str, question: str,
                     team_id: str | None = None, user_id: str | None = None) -> Answer | None:
    """Answer ``question`` in the thread, with sources and feedback buttons; apologise on failure.

    With a language model, the steps stream in as task cards (chat.startStream/appendStream) and
    the verified answer ends the same message (chat.stopStream); the offline answerer posts it at once.
    """
    from ...retrieval.answering.pipeline import QuestionError  # the only answering error users should see verbatim

    limit = deps.settings.slack.max_question_chars
    if len(question) > limit:
        _post(client, channel, thread_ts, too_long_message(limit))
        return None
    history = deps.state.thread_history(channel, thread_ts)
    cards = None
    try:
        if deps.settings.answerer_name != "local":
            cards = _ProgressCards(client.chat_stream(channel=channel, thread_ts=thread_ts,
                                                      recipient_team_id=team_id, recipient_user_id=user_id))
            answer = _stream(deps, cards, question, history)
        else:
            answer = deps.library.ask(question, history)
    except QuestionError as exc:
        message = (str(exc), [{"type": "section", "text": {"type": "plain_text", "text": str(exc)}}])
        _end(client, cards, channel, thread_ts, message)
        return None
    except Exception:
        log.exception("answering failed in %s/%s", channel, thread_ts)
        _end(client, cards, channel, thread_ts, apology_message())
        return None
    question_id = deps.state.record_question(
        question, channel=channel, thread_ts=thread_ts, answer=answer.answer,
        paper_ids=answer.paper_ids, abstained=answer.abstained)
    message = answer_message(answer, feedback_value=str(question_id))
    try:
        if cards is not None:
            _deliver(client, cards, channel, thread_ts, answer, message)
        else:
            _post(client, channel, thread_ts, message)
    except UNDELIVERED:
        deps.state.forget_question(question_id)  # never reached the thread: not answered (see bot/state/once.py)
        raise
    return answer


def _end(client: WebClient, cards: _ProgressCards | None, channel: str, thread_ts: str,
         message: tuple[str, list[dict]]) -> None:
    """A reply that is not an answer: it ends the streamed message if one was started, else is posted."""
    if cards is not None and cards.streamer.ts:
        _deliver(client, cards, channel, thread_ts, None, message)
    else:
        _post(client, channel, thread_ts, message)
