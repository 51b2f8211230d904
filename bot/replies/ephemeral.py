"""Replies only the asker sees: `/paper ask` and "Ask about this" (through the response URL, with
"Share in channel"), or privately when there is no response URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from ...retrieval.types import Answer
from ..blocks.answer_reply import answer_reply
from ..blocks.paper_blocks import section, with_share_button
from ..blocks.slack_text import escape
from ..state.shared_replies import SharedReplies
from .private_replies import tell
from .reply import Message, Reply


class EphemeralReply(Reply):
    """Through a response URL (Bolt's ``respond``, or a ``WebhookClient``'s ``send``)."""

    def __init__(self, respond: Callable[..., Any], shared_replies: SharedReplies, *, replace_original: bool,
                 apology_text: str):
        self.respond, self.shared_replies = respond, shared_replies
        self.replace_original, self.apology_text = replace_original, apology_text

    def answer(self, answer: Answer, question_id: int) -> Message:
        text, blocks = answer_reply(answer)
        return text, with_share_button(blocks, self.shared_replies.keep(text, blocks))

    def refusal(self, reason: str) -> Message:
        return reason, [section(escape(reason))]

    def apology(self) -> Message:
        return self.apology_text, None

    def send(self, message: Message, answer: Answer | None = None) -> None:
        text, blocks = message
        extra = {"blocks": blocks} if blocks is not None else {}
        self.respond(text=text, **extra, response_type="ephemeral", replace_original=self.replace_original)


class PrivateReply(Reply):
    """Ephemeral in the channel, else a DM (no response URL to answer through)."""

    def __init__(self, client: WebClient, *, user: str, channel: str | None, apology_text: str):
        self.client, self.user, self.channel, self.apology_text = client, user, channel, apology_text

    def answer(self, answer: Answer, question_id: int) -> Message:
        return answer_reply(answer)

    def refusal(self, reason: str) -> Message:
        return reason, None

    def apology(self) -> Message:
        return self.apology_text, None

    def send(self, message: Message, answer: Answer | None = None) -> None:
        text, blocks = message
        tell(self.client, user=self.user, channel=self.channel, text=text, blocks=blocks)
