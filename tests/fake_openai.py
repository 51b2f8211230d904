"""A fake OpenAI-compatible server on 127.0.0.1 for tests that drive the real `openai` client.

It serves ``POST /v1/chat/completions`` in both forms (JSON, or server-sent events when the
request says ``"stream": true``), answers each request with the next scripted :class:`Reply`,
and records every request. Replies can be errors (429 with Retry-After, 500, 401 that echoes
the key back as OpenAI's own 401 does), slow (for timeouts), trickled a piece at a time, cut off
mid-stream, or not a completion at all (an HTML page, JSON of another shape).

Claim checks (requests whose system prompt is the claim checker's) are not taken from the
script: ``checker(claim, passage)`` answers them, whatever order they come in.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from paperbot import prompts

_CHECK_PARTS = re.compile(r"<passage>\n(?P<passage>.*)\n</passage>\s*<claim>\n(?P<claim>.*)\n</claim>", re.S)


@dataclass(frozen=True)
class Reply:
    """One scripted response. Build it with the class methods."""

    status: int = 200
    content: str | None = None  # the assistant's text
    chunks: tuple[str, ...] | None = None  # streamed deltas; default: ``content`` split into words
    error: str | None = None  # error message for a non-200 status
    echo_key: bool = False  # put the caller's API key in the error message (OpenAI's 401 does)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait this long before answering
    stream_error: str | None = None  # after the chunks, send an SSE error event instead of finishing
    stream_cut: bool = False  # after the chunks, close the stream without finish_reason or [DONE]
    stall_s: float = 0.0  # after the chunks, go quiet this long before finishing (a stalled stream)
    trickle_s: float = 0.0  # wait this long before each streamed chunk, or each byte of a JSON body
    finish_reason: str = "stop"
    body: bytes | None = None  # sent as it is (with content_type) instead of a completion
    content_type: str = "application/json"

    @classmethod
    def answer(cls, content: str, *, chunks: tuple[str, ...] | None = None, delay_s: float = 0.0) -> "Reply":
        return cls(content=content, chunks=chunks, delay_s=delay_s)

    @classmethod
    def failure(cls, status: int, message: str = "fake failure", *, retry_after_s: float | None = None) -> "Reply":
        # retry-after-ms keeps the openai client's backoff short in tests.
        headers = {"retry-after-ms": str(int(retry_after_s * 1000))} if retry_after_s is not None else {}
        return cls(status=status, error=message, headers=headers)

    @classmethod
    def bad_key(cls) -> "Reply":
        return cls(status=401, error="Incorrect API key provided: {key}.", echo_key=True)

    @classmethod
    def raw(cls, body: str, content_type: str = "application/json") -> "Reply":
        """HTTP 200 with this body, whatever the request asked for (a proxy's HTML page, JSON of another shape)."""
        return cls(body=body.encode(), content_type=content_type)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict
    at: float = field(default_factory=time.monotonic, compare=False)  # when it arrived

    @property
    def messages(self) -> list[dict]:
        return self.body.get("messages", [])


def is_claim_check(request: RecordedRequest) -> bool:
    messages = request.messages
    return bool(messages) and messages[0].get("content") == prompts.render("claim_check_system")


_PASSAGE = re.compile(r'^\[(\d+)\] "([^\n]*)" \([^\n]*\)\n(?:[^\n]*\n)*?<passage>\n([\s\S]*?)\n</passage>', re.M)


def passages(request: RecordedRequest) -> dict[int, tuple[str, str]]:
    """Evidence number -> (paper title, passage text), as an answer request shows them to the model."""
    return {int(n): (title, text) for n, title, text in _PASSAGE.findall(request.messages[-1]["content"])}


def passage_number(request: RecordedRequest, sentence: str) -> int:
    """The number of the passage holding ``sentence`` (whitespace collapsed)."""
    return next(n for n, (_, text) in passages(request).items() if sentence in " ".join(text.split()))


def check_parts(request: RecordedRequest) -> tuple[str, str]:
    """(claim, passage) of a claim-check request."""
    match = _CHECK_PARTS.search(request.messages[-1]["content"])
    assert match, "a claim check shows the passage and the claim between their tags"
    return match["claim"], match["passage"]


class FakeOpenAI:
    """Use as a context manager; ``base_url`` is what the openai client needs."""

    def __init__(self, checker: Callable[[str, str], str | Reply] | None = None) -> None:
        self.requests: list[RecordedRequest] = []
        self.checks: list[RecordedRequest] = []  # claim-check requests, also in ``requests``
        self.checker = checker
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: Reply | Callable[[RecordedRequest], Reply]) -> None:
        """Queue replies, one per request, in order; a callable makes its reply from the request (as a model reads its prompt)."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def unused_replies(self) -> int:
        return len(self._replies)

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()  # releases handlers still sleeping in a slow reply
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- serving ---------------------------------------------------------------------------

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if is_claim_check(request):
                self.checks.append(request)
                if self.checker is None:
                    return Reply.failure(400, "fake OpenAI server: no checker for claim checks")
                reply = self.checker(*check_parts(request))
                return reply if isinstance(reply, Reply) else Reply.answer(reply)
            if not self._replies:
                return Reply.failure(400, "fake OpenAI server: no scripted reply left for this request")
            reply = self._replies.popleft()
        return reply(request) if callable(reply) else reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else {}
                request = RecordedRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send_json(404, _error_body(f"no route {self.path}"))
                    return
                reply = fake._next_reply(request)
                if reply.delay_s and fake._stop.wait(reply.delay_s):
                    return
                try:
                    self._serve(reply, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (e.g. it timed out): nothing left to do

            def _serve(self, reply: Reply, body: dict) -> None:
                if reply.body is not None:
                    self._send_raw(reply)
                elif reply.status != 200:
                    message = reply.error or "error"
                    if reply.echo_key:
                        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                        message = message.format(key=key)
                    self._send_json(reply.status, _error_body(message), reply.headers)
                elif body.get("stream"):
                    self._send_stream(reply, body)
                else:
                    payload = _completion(body, reply.content or "", reply.finish_reason)
                    if reply.trickle_s:
                        self._send_raw(Reply(body=json.dumps(payload).encode(), trickle_s=reply.trickle_s))
                    else:
                        self._send_json(200, payload, reply.headers)

            def _send_raw(self, reply: Reply) -> None:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if not reply.trickle_s:
                    self.wfile.write(reply.body)
                    return
                for i in range(len(reply.body)):  # a byte at a time: every read gets something
                    if fake._stop.wait(reply.trickle_s):
                        return
                    self.wfile.write(reply.body[i:i + 1])
                    self.wfile.flush()

            def _send_json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _send_stream(self, reply: Reply, body: dict) -> None:
                # HTTP/1.0 without Content-Length: the body ends when the connection closes.
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                chunks = reply.chunks if reply.chunks is not None else _split_words(reply.content or "")
                for i, piece in enumerate(chunks):
                    if reply.trickle_s and fake._stop.wait(reply.trickle_s):
                        return
                    delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                    self._send_event(_chunk(body, delta, None))
                if reply.stall_s and fake._stop.wait(reply.stall_s):
                    return
                if reply.stream_error:
                    self._send_event(_error_body(reply.stream_error))
                    return
                if reply.stream_cut:
                    return
                self._send_event(_chunk(body, {}, reply.finish_reason))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _send_event(self, payload: dict) -> None:
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

        return Handler


def _split_words(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == len(words) - 1 else w + " " for i, w in enumerate(words)]


def _error_body(message: str) -> dict:
    return {"error": {"message": message, "type": "fake_error", "param": None, "code": None}}


def _completion(request: dict, content: str, finish_reason: str = "stop") -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake-model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(request: dict, delta: dict, finish_reason: str | None) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.get("model", "fake-model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
