"""Answers written by an OpenAI chat model, or any OpenAI-compatible server (Ollama, vLLM, llama.cpp server, LM Studio).

The `openai` client sends the request and maps HTTP errors; the reply is read here, piece by
piece, so the answer's deadline is checked while a slow server trickles it, and every reply is
checked for the shape it must have: a server answering with an HTML page, JSON of another shape,
nothing, or a reply cut off at the token limit is a failure with its own note, never a crash.
Retries (429, 5xx, timeouts) happen here too, with backoff, and only while the deadline allows.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import Iterator

import openai
from pydantic import BaseModel, ConfigDict, Field

from ....config import Settings
from .base import AnswererUnavailable
from .chat import ChatAnswerer
from ..deadline import Deadline
from ..client import LLM_ERRORS, READ_FAILED, READ_TIMED_OUT, openai_client, redact, unavailable
from ..notes import (
    CUT_OFF_NOTE, EMPTY_REPLY_NOTE, FAILED_NOTE, FILTERED_NOTE, TIMED_OUT_NOTE, TOO_LONG_NOTE, UNREADABLE_NOTE,
)

log = logging.getLogger(__name__)

MAX_REPLY_BYTES = 1 << 20  # far more than any answer; a server sending more is not answering
_RETRIED_STATUS = {408, 409, 429}
FIRST_BACKOFF_S = 0.5
# A call is given this much longer than the deadline leaves, so that when time runs out it is the
# deadline that ends the answer (and its note says so), and the socket's timeout only ends the call.
GRACE_S = 0.5


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Message(_Shape):
    content: str | None = None


class _Choice(_Shape):
    message: _Message
    finish_reason: str | None = None


class _Completion(_Shape):
    choices: list[_Choice] = Field(min_length=1)


class _Delta(_Shape):
    content: str | None = None


class _ChunkChoice(_Shape):
    delta: _Delta = Field(default_factory=_Delta)
    finish_reason: str | None = None


class _Chunk(_Shape):
    choices: list[_ChunkChoice]  # usage-only chunks have none


def _retried(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # timeouts included
        return True
    status = getattr(exc, "status_code", None)
    return status in _RETRIED_STATUS or (status is not None and status >= 500)


def _backoff(exc: BaseException, attempt: int) -> float:
    """Seconds to wait before the next attempt: the server's Retry-After, else exponential."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    for name, scale in (("retry-after-ms", 1000), ("retry-after", 1)):
        try:
            return max(0.0, float(headers[name]) / scale)
        except (KeyError, ValueError):
            continue
    return FIRST_BACKOFF_S * 2 ** attempt


def _finished(finish_reason: str | None) -> None:
    """Raise for a reply that did not end because the model was done."""
    if finish_reason is None:  # the connection closed before the model said it was done
        raise AnswererUnavailable(CUT_OFF_NOTE)
    if finish_reason == "length":
        raise AnswererUnavailable(TOO_LONG_NOTE)
    if finish_reason == "content_filter":
        raise AnswererUnavailable(FILTERED_NOTE)


class OpenAIChat:
    """A :class:`~paperbot.retrieval.llm.answerers.chat.ChatModel` over the OpenAI chat completions API."""

    def __init__(self, settings: Settings):
        self._settings = settings
        # Retries are ours: the client's would not stop at the answer's deadline.
        self._client = openai_client(settings).with_options(max_retries=0)

    def _body(self, messages: list[dict[str, str]], max_tokens: int) -> dict:
        llm = self._settings.llm
        body: dict = {"model": llm.model, "messages": messages, "stream": llm.stream}
        if llm.reasoning:  # reasoning models refuse max_tokens and any temperature but the default
            body["max_completion_tokens"] = max_tokens
        else:
            body["max_tokens"] = max_tokens
            body["temperature"] = llm.temperature
        return body

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int, deadline: Deadline) -> Iterator[str]:
        body = self._body(messages, max_tokens)
        said_something = False
        try:
            with contextlib.ExitStack() as stack:
                response = self._open(stack, body, deadline)
                content_type = response.headers.get("content-type", "")
                if "text/event-stream" in content_type:
                    pieces = self._events(response, deadline)
                else:  # a whole JSON body: asked for, or a server that does not stream
                    pieces = self._whole(response, content_type, deadline)
                for piece in pieces:
                    said_something = said_something or bool(piece.strip())
                    yield piece
        except LLM_ERRORS as exc:
            # No "from exc": unavailable() keeps the cause only when it cannot echo the API key.
            raise unavailable(exc, self._settings)  # noqa: B904
        except READ_TIMED_OUT as exc:  # the server went quiet while sending its reply
            log.warning("LLM reply stalled: %s", type(exc).__name__)
            raise AnswererUnavailable(TIMED_OUT_NOTE, cause=exc) from exc
        except READ_FAILED as exc:  # the connection broke while the reply was coming
            log.warning("LLM reply broke off: %s: %s", type(exc).__name__, exc)
            raise AnswererUnavailable(CUT_OFF_NOTE, cause=exc) from exc
        if not said_something:
            raise AnswererUnavailable(EMPTY_REPLY_NOTE)

    def _open(self, stack: contextlib.ExitStack, body: dict, deadline: Deadline):
        """The response, once its status is 2xx: retried on 429/5xx/timeouts while the deadline allows."""
        llm = self._settings.llm
        attempt = 0
        while True:
            deadline.check()
            timeout = min(llm.timeout_s or math.inf, deadline.remaining() + GRACE_S)
            request = self._client.chat.completions.with_streaming_response.create(**body, timeout=timeout)
            try:
                return stack.enter_context(request)
            except LLM_ERRORS as exc:
                wait = _backoff(exc, attempt)
                if not _retried(exc) or attempt >= llm.retries or wait >= deadline.remaining():
                    raise
                log.info("LLM attempt %d failed (%s); retrying in %.2f s", attempt + 1, type(exc).__name__, wait)
                deadline.sleep(wait)
                attempt += 1

    def _events(self, response, deadline: Deadline) -> Iterator[str]:
        """The text of a server-sent-events reply, as it arrives."""
        finish_reason = None
        for line in response.iter_lines():
            deadline.check()
            if not line.startswith("data:"):
                continue  # event names, comments, keep-alives
            data = line[len("data:"):].strip()
            if data == "[DONE]":
                break
            payload = json.loads(data)
            if isinstance(payload, dict) and payload.get("error"):
                log.warning("LLM stream reported an error: %s", redact(str(payload["error"]), self._settings)[:300])
                raise AnswererUnavailable(FAILED_NOTE)
            for choice in _Chunk.model_validate(payload).choices:
                finish_reason = choice.finish_reason or finish_reason
                if choice.delta.content:
                    yield choice.delta.content
        _finished(finish_reason)

    def _whole(self, response, content_type: str, deadline: Deadline) -> Iterator[str]:
        """The text of a whole JSON reply, read piece by piece so a trickled body can't outlast the deadline."""
        body = bytearray()
        for part in response.iter_bytes():
            deadline.check()
            body += part
            if len(body) > MAX_REPLY_BYTES:
                break
        if "json" not in content_type or len(body) > MAX_REPLY_BYTES:
            log.warning("LLM replied with %d bytes of %r, not a JSON completion", len(body), content_type)
            raise AnswererUnavailable(UNREADABLE_NOTE)
        choice = _Completion.model_validate_json(bytes(body)).choices[0]
        if choice.message.content:
            yield choice.message.content
        _finished(choice.finish_reason)


class OpenAIAnswerer(ChatAnswerer):
    def __init__(self, settings: Settings):
        super().__init__("openai", OpenAIChat(settings), settings)
