"""Exactly once: every Slack delivery is handled by one replica, once.

Before acting, a replica claims the delivery's key in the shared state database (the claim is a
primary-key insert, atomic across replicas). Keys:

- a person's message (mention, DM, thread follow-up, agent/assistant thread): the message itself,
  team + channel + ts. Slack's retries carry the same message, and one message that arrives both
  as ``app_mention`` and as ``message`` is still one message;
- a slash command, button click or form submission: its ``trigger_id`` (one per user action;
  these carry no event id), else a digest of the whole payload;
- any other event (a thread or the Home tab opened …): its ``event_id``, which Slack's retries keep.

When the reply cannot reach Slack after slack-sdk's own retries (rate limited throughout, Web API
down, network gone), the claim is released, so Slack's redelivery is answered: never zero
times, never twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_bolt import BoltResponse
from slack_sdk.errors import SlackClientError

if TYPE_CHECKING:
    from .store import State

log = logging.getLogger(__name__)

# What slack-sdk raises once its retry handlers give up: an error answer (429 included), or no
# answer at all (URLError, timeouts and refused connections are OSErrors).
UNDELIVERED = (SlackClientError, OSError)
_MAX_KEY = 128  # the claims table's key column

_INTERACTIONS = {"block_actions", "view_submission", "shortcut", "message_action"}
# Events answered per message: their listeners claim the message once they decide to answer it.
_MESSAGE_EVENTS = {"message", "app_mention"}


def _bounded(key: str) -> str:
    return key if len(key) <= _MAX_KEY else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def message_key(team_id: str | None, channel: str, ts: str) -> str:
    """The key of a reply to one message."""
    return _bounded(f"message:{team_id or '-'}:{channel}:{ts}")


def delivery_key(body: dict) -> str | None:
    """The key claimed before any listener runs (None: claimed later, per message, or not at all)."""
    if body.get("type") == "event_callback":
        event_type = (body.get("event") or {}).get("type")
        if event_type in _MESSAGE_EVENTS or not body.get("event_id"):
            return None
        return _bounded(f"event:{body['event_id']}")
    return interaction_key(body)


def interaction_key(body: dict) -> str | None:
    """The key of a slash command, button click or form submission (None: not one of those)."""
    if "command" in body:
        kind = "command"
    elif body.get("type") in _INTERACTIONS:
        kind = body["type"]
    else:
        return None
    trigger = body.get("trigger_id")
    if trigger:
        return _bounded(f"{kind}:{trigger}")
    return f"{kind}:sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def handle_once(state: State, key: str, handle: Callable[[], object]) -> bool:
    """Run ``handle`` if this replica is the first to claim ``key``; True when it ran and was delivered."""
    if not state.claim(key):
        log.info("%s was already handled (a retry, or another replica)", key)
        return False
    try:
        handle()
    except UNDELIVERED as exc:
        state.release(key)
        log.warning("the reply to %s did not reach Slack (%s); released so a redelivery is answered",
                    key, type(exc).__name__)
        return False
    return True


def claim_deliveries(state: State) -> Callable[..., BoltResponse | None]:
    """Bolt middleware: a command, click, submission or event delivered twice (to any replica) runs once.

    Messages pass through: their listeners claim the message they decide to answer, and release
    the claim if the answer never reached Slack.
    """

    def middleware(body: dict, next: Callable[[], BoltResponse | None]) -> BoltResponse | None:  # noqa: A002 (Bolt's name)
        key = delivery_key(body)
        if key is not None and not state.claim(key):
            log.info("%s was already handled (a duplicate delivery)", key)
            return BoltResponse(status=200, body="")  # acknowledged, nothing more to do
        return next()

    return middleware
