"""A reply only one person sees: ephemeral in the channel, else a DM.

An ephemeral message needs the bot in the channel; in a private channel it was never invited to
(``channel_not_found``, ``not_in_channel``) the person gets a DM from the bot instead.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


def tell(client: WebClient, *, user: str, channel: str | None, text: str, blocks: list[dict] | None = None) -> None:
    if channel and not channel.startswith("D"):
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
            return
        except SlackApiError as exc:
            log.info("ephemeral reply in %s failed (%s); sending a DM", channel, exc.response.get("error"))
    client.chat_postMessage(channel=user, text=text, blocks=blocks)  # a user id posts to the bot's DM with them
