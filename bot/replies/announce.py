"""Tell a channel about a paper someone added; where the bot cannot post, tell that person instead."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ..blocks.paper_blocks import context_block
from .private_replies import tell

log = logging.getLogger(__name__)


def announce(client: WebClient, *, channel: str | None, user: str, text: str, blocks: list[dict],
             thread_ts: str | None = None) -> None:
    try:
        client.chat_postMessage(channel=channel or user, thread_ts=thread_ts, text=text, blocks=blocks,
                                unfurl_links=False)
    except SlackApiError as exc:
        # A private channel the bot was never invited to: the paper is in, tell the person who added it.
        log.info("could not announce the new paper in %s: %s", channel, exc.response.get("error"))
        note = context_block("I couldn't announce it in that channel because I'm not a member: "
                             "invite me there and I will next time.")
        tell(client, user=user, channel=channel, text=text, blocks=[*blocks, note])
