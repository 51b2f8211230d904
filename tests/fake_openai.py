"""A fake OpenAI-compatible server on 127.0.0.1 for tests that drive the real `openai` client.

It serves ``POST /v1/chat/completions`` in both forms (JSON, or server-sent events when the
request says ``"stream": true``), answers each request with the next scripted :class:`Reply`,
and records every request. Replies can be errors (429 with Retry-After, 500, 401 that echoes
the key back as OpenAI's own 401 does), slow (for timeouts), or break off mid-stream.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict

    @property
    def messages(self) -> list[dict]:
        return self.body.get("messages", [])


class FakeOpenAI:
    """Use as a context manager; ``base_url`` is what the openai client needs."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
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

    def script(self, *replies: Reply) -> None:
        """Queue replies, one per request, in order."""
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
            if not self._replies:
                return Reply.failure(400, "fake OpenAI server: no scripted reply left for this request")
            return self._replies.popleft()

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
                if reply.status != 200:
                    message = reply.error or "error"
                    if reply.echo_key:
                        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                        message = message.format(key=key)
                    self._send_json(reply.status, _error_body(message), reply.headers)
                elif body.get("stream"):
                    self._send_stream(reply, body)
                else:
                    self._send_json(200, _completion(body, reply.content or ""), reply.headers)

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
                    delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                    self._send_event(_chunk(body, delta, None))
                if reply.stall_s and fake._stop.wait(reply.stall_s):
                    return
                if reply.stream_error:
                    self._send_event(_error_body(reply.stream_error))
                    return
                if reply.stream_cut:
                    return
                self._send_event(_chunk(body, {}, "stop"))
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


def _completion(request: dict, content: str) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake-model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
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
