"""Replies in a Slack thread (mentions, DMs, follow-ups, agent threads): the answer with 👍/👎.

With a language model the steps stream in as task cards (chat.startStream/appendStream) and the
verified answer ends the same message (chat.stopStream); otherwise the answer is posted at once.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ...retrieval.types import Answer, Progress
from ..blocks.answers import answer_message, apology_message
from ..blocks.slack_text import escape, safe_url
from .reply import Message, Reply

log = logging.getLogger(__name__)


def _task(progress: Progress, status: str, **extra: Any) -> dict:
    return {"type": "task_update", "id": progress.step, "title": progress.title[:256], "status": status, **extra}


def _sources(answer: Answer) -> dict:
    """The cited papers, for the last step's card: links where the corpus has them, else their titles."""
    links = [{"type": "url", "url": url, "text": escape(c.title)[:256]}
             for c in answer.citations if (url := safe_url(c.url))]
    if links:
        return {"sources": links}
    titles = "; ".join(dict.fromkeys(escape(c.title) for c in answer.citations))
    return {"output": f"Quoted from {titles}"[:256]} if titles else {}


class ProgressCards:
    """Answering's steps as task cards on a streamed message: the only thing streamed.

    The answer itself goes out once, as the final blocks, after its claims were checked; a
    language model's unchecked text never reaches Slack.
    """

    def __init__(self, streamer: Any):  # slack_sdk's ChatStream
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

    def finish(self, answer: Answer | None, blocks: list[dict] | None) -> None:
        """Close the last card (with the sources, or as failed) and put ``blocks`` below the cards."""
        chunks = []
        if self.current:
            extra = _sources(answer) if answer else {}
            chunks = [_task(self.current, "complete" if answer else "error", **extra)]
        self.streamer.stop(chunks=chunks, blocks=blocks)


class ThreadReply(Reply):
    def __init__(self, client: WebClient, channel: str, thread_ts: str, *, team_id: str | None = None,
                 user_id: str | None = None):
        self.client, self.channel, self.thread_ts = client, channel, thread_ts
        self.team_id, self.user_id = team_id, user_id
        self.cards: ProgressCards | None = None

    def progress_cards(self) -> ProgressCards:
        self.cards = ProgressCards(self.client.chat_stream(channel=self.channel, thread_ts=self.thread_ts,
                                                           recipient_team_id=self.team_id,
                                                           recipient_user_id=self.user_id))
        return self.cards

    def answer(self, answer: Answer, question_id: int) -> Message:
        return answer_message(answer, feedback_value=str(question_id))

    def refusal(self, reason: str) -> Message:
        return reason, [{"type": "section", "text": {"type": "plain_text", "text": reason}}]

    def apology(self) -> Message:
        return apology_message()

    def send(self, message: Message, answer: Answer | None = None) -> None:
        """An answer ends the streamed message if one was started, as does anything else once it shows."""
        if self.cards is not None and (answer is not None or self.cards.streamer.ts):
            self._deliver(self.cards, answer, message)
        else:
            self._post(message)

    def _post(self, message: Message) -> None:
        text, blocks = message
        self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, text=text, blocks=blocks)

    def _deliver(self, cards: ProgressCards, answer: Answer | None, message: Message) -> None:
        """End the streamed message with the final blocks; if Slack lost the stream, replace or post it."""
        text, blocks = message
        try:
            cards.finish(answer, blocks)
        except SlackApiError as exc:
            log.warning("chat.stopStream failed (%s); sending the answer another way", exc.response.get("error"))
            if cards.streamer.ts:
                self.client.chat_update(channel=self.channel, ts=cards.streamer.ts, text=text, blocks=blocks)
            else:
                self._post(message)
