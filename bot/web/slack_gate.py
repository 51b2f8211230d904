"""The edge of HTTP mode: only signed, well-formed Slack requests of a sane size reach Bolt.

Refusals are decided here, before Bolt parses anything, so a refused request never reaches a
log with its body (Bolt logs the whole body of a request whose signature fails) and a malformed
one gets 400 instead of a 500 with a traceback.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

# Events the bot reads channel and ts of: without them there is nothing to answer.
_MESSAGE_EVENTS = {"message", "app_mention"}
# How far a request's timestamp may be from this server's clock: slack-sdk's replay window.
MAX_CLOCK_SKEW_S = 60 * 5
BAD_SIGNATURE = "invalid or missing Slack signature"
# Interaction fields that Slack always sends as objects.
_OBJECT_FIELDS = ("user", "team", "channel", "view", "container", "message", "event", "authorizations")


class Refused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def malformed(body: Any) -> str | None:
    """Why a parsed, signed body is not a Slack payload the app can read (None: it is)."""
    if not isinstance(body, dict):
        return "the payload is not an object"
    for name in _OBJECT_FIELDS:
        value = body.get(name)
        # null is allowed: Slack sends "team": null for some Enterprise Grid payloads
        if value is not None and not isinstance(value, dict) and not (name == "authorizations" and isinstance(value, list)):
            return f"`{name}` is not an object"
    if "actions" in body and not (isinstance(body["actions"], list) and all(isinstance(a, dict) for a in body["actions"])):
        return "`actions` is not a list of objects"
    if body.get("type") == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "an event callback without an event"
        if event["type"] in _MESSAGE_EVENTS and not event.get("subtype"):
            if not (isinstance(event.get("channel"), str) and isinstance(event.get("ts"), str)):
                return f"a {event['type']} event without channel or ts"
    return None


class SlackGate:
    """A WSGI app: checks size, signature and shape, then hands the request to Bolt."""

    def __init__(self, app: App, signing_secret: str, max_body_bytes: int):
        if not signing_secret:
            raise ValueError("HTTP mode needs the signing secret")
        self.app = app
        self.verifier = SignatureVerifier(signing_secret)
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        request = WsgiHttpRequest(environ)
        try:
            if request.method != "POST":
                raise Refused(405, "method not allowed")
            bolt_request = self._bolt_request(request)
        except Refused as refusal:
            # What was refused and why; never the body.
            log.info("refused a request to %s: %s (%s bytes)", request.path, refusal.reason,
                     environ.get("CONTENT_LENGTH") or 0)
            return _respond(start_response, refusal.status, {"content-type": ["text/plain;charset=utf-8"]},
                            refusal.reason)
        response = self.app.dispatch(bolt_request)
        return _respond(start_response, response.status, response.headers, response.body)

    def _bolt_request(self, request: WsgiHttpRequest) -> BoltRequest:
        try:
            length = int(request.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise Refused(400, "bad Content-Length") from None
        if length > self.max_body_bytes:
            raise Refused(413, "request body too large")
        raw = request.environ["wsgi.input"].read(length) if length else b""
        headers = request.get_headers()
        problem = self._signature_problem(raw, headers)
        if problem:
            raise Refused(401, problem)
        try:
            bolt_request = BoltRequest(body=raw.decode("utf-8"), query=request.query_string, headers=headers)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            # undecodable bytes, JSON or form that is not a Slack payload
            raise Refused(400, "malformed Slack payload") from None
        reason = malformed(bolt_request.body)
        if reason:
            raise Refused(400, f"malformed Slack payload: {reason}")
        return bolt_request

    def _signature_problem(self, raw: bytes, headers: dict) -> str | None:
        """Why the request is not signed by Slack (None: it is).

        A request signed with our secret whose timestamp is outside the replay window is told
        apart from a forged one: that is this server's clock drifting, not an attack.
        """
        try:
            if self.verifier.is_valid_request(raw, headers):
                return None
            lowered = {name.lower(): value for name, value in headers.items()}
            timestamp, signature = lowered.get("x-slack-request-timestamp"), lowered.get("x-slack-signature")
            if not isinstance(timestamp, str) or not isinstance(signature, str):
                return BAD_SIGNATURE
            skew = self.verifier.clock.now() - int(timestamp)
            expected = self.verifier.generate_signature(timestamp=timestamp, body=raw) or ""
            signed_by_us = hmac.compare_digest(expected, signature)
        except (ValueError, TypeError):  # a timestamp that is not a number, a body that is not UTF-8, non-ASCII
            return BAD_SIGNATURE
        if abs(skew) <= MAX_CLOCK_SKEW_S or not signed_by_us:
            return BAD_SIGNATURE
        if skew > 0:
            return "request timestamp too old — check this server's clock"
        return "request timestamp ahead of this server's clock — check this server's clock"


def _respond(start_response, status: int, headers: dict, body: str) -> Iterable[bytes]:
    response = WsgiHttpResponse(status=status, headers=headers, body=body)
    start_response(response.status, response.get_headers())
    return response.get_body()
