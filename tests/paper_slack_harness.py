"""Test harness for the `/paper` scenario tests: a recording fake Slack Web API and a Bolt app
served over real HTTP, driven with signed requests."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret"


@dataclass
class Call:
    method: str  # Web API method, or "response_url"
    args: dict
    path: str = ""


@dataclass
class FakeSlack:
    """Answers the Web API methods the bot uses and records every call."""

    calls: list[Call] = field(default_factory=list)
    condition: threading.Condition = field(default_factory=threading.Condition)
    _ts: int = 0
    fail_methods: set[str] = field(default_factory=set)
    rate_limited: dict[str, int] = field(default_factory=dict)  # method -> how many 429s to answer first
    # channel -> the error Slack gives for posting there (e.g. "channel_not_found": a private channel
    # the bot isn't in); chat.postMessage and chat.postEphemeral into it fail.
    channel_errors: dict[str, str] = field(default_factory=dict)
    unavailable: dict[str, int] = field(default_factory=dict)  # method -> how many 503s to answer first
    socket_url: str | None = None  # what apps.connections.open hands out (a local Socket Mode server)
    files: dict[str, bytes] = field(default_factory=dict)  # path -> bytes served to GET (url_private_download)

    def take_rate_limit(self, method: str) -> bool:
        return self._take(self.rate_limited, method, "429")

    def take_unavailable(self, method: str) -> bool:
        return self._take(self.unavailable, method, "503")

    def _take(self, failures: dict[str, int], method: str, status: str) -> bool:
        with self.condition:
            if failures.get(method, 0) > 0:
                failures[method] -= 1
                self.calls.append(Call(f"{method}:{status}", {}))
                self.condition.notify_all()
                return True
            return False

    def record(self, call: Call) -> dict:
        with self.condition:
            self.calls.append(call)
            self.condition.notify_all()
            if call.method in self.fail_methods:
                return {"ok": False, "error": "fatal_error"}
            if call.method in ("chat.postMessage", "chat.postEphemeral") and call.args.get("channel") in self.channel_errors:
                return {"ok": False, "error": self.channel_errors[call.args["channel"]]}
            if call.method == "auth.test":
                return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "url": "https://t.slack.com/"}
            if call.method == "apps.connections.open":
                return {"ok": True, "url": self.socket_url} if self.socket_url else {"ok": False, "error": "no_socket"}
            if call.method in ("chat.postMessage", "chat.startStream"):
                self._ts += 1
                return {"ok": True, "channel": call.args.get("channel"), "ts": f"1700000000.{self._ts:06d}"}
            return {"ok": True}

    def chat_calls(self) -> list[Call]:
        """Every chat.* call the bot made (posts, ephemeral messages, streams), in order."""
        with self.condition:
            return [c for c in self.calls if c.method.startswith("chat.")]

    def of(self, method: str) -> list[Call]:
        with self.condition:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self.condition:
            while len([c for c in self.calls if c.method == method]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {method} call after {timeout}s; calls: {[c.method for c in self.calls]}")
                self.condition.wait(left)
            return [c for c in self.calls if c.method == method]


class _FakeSlackHandler(BaseHTTPRequestHandler):
    fake: FakeSlack

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        """A file download: served only with the bot token, as Slack serves url_private."""
        authorization = self.headers.get("Authorization") or ""
        self.fake.record(Call("file_download", {"authorization": authorization}, self.path))
        data = self.fake.files.get(self.path)
        status = 200 if data is not None and authorization == "Bearer xoxb-test" else (404 if data is None else 403)
        body = data if status == 200 else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/pdf" if status == 200 else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if "json" in (self.headers.get("Content-Type") or ""):
            args = json.loads(raw or "{}")
        else:
            args = {k: v[0] for k, v in parse_qs(raw).items()}
            for key in ("blocks", "view"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        if self.path.startswith("/response/"):
            self.fake.record(Call("response_url", args, self.path))
            body = b"ok"
            content_type = "text/plain"
        elif self.fake.take_rate_limit(self.path.rsplit("/", 1)[-1]):
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        elif self.fake.take_unavailable(self.path.rsplit("/", 1)[-1]):
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        else:
            reply = self.fake.record(Call(self.path.rsplit("/", 1)[-1], args, self.path))
            body = json.dumps(reply).encode()
            content_type = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def start_fake_slack() -> tuple[FakeSlack, ThreadingHTTPServer]:
    fake = FakeSlack()
    handler = type("Handler", (_FakeSlackHandler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return fake, server


def serve_bolt_app(app, settings):
    """Serve the Bolt app over real HTTP (the production server and its Slack gate) on a free loopback port."""
    from paperbot.bot.web.server import serve_in_thread

    server = serve_in_thread(app, settings)
    return f"http://127.0.0.1:{server.server_port}/slack/events", server


def signed_post(url: str, body: str | bytes, content_type: str, extra_headers: dict | None = None) -> httpx.Response:
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body)
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature, "Content-Type": content_type,
               **(extra_headers or {})}
    return httpx.post(url, content=body, headers=headers, timeout=10)


def send_command(url: str, text: str, *, response_url: str, user: str = "U1ALICE", name: str = "alice",
                 channel: str = "C1READING", trigger_id: str = "trigger-1") -> httpx.Response:
    """A slash command; Slack gives each invocation its own trigger_id (pass one per command)."""
    body = urlencode({
        "command": "/paper", "text": text, "user_id": user, "user_name": name, "channel_id": channel,
        "team_id": "T1", "trigger_id": trigger_id, "response_url": response_url, "api_app_id": "A1",
    })
    return signed_post(url, body, "application/x-www-form-urlencoded")


def send_interaction(url: str, payload: dict) -> httpx.Response:
    return signed_post(url, urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


def send_event(url: str, event: dict, event_id: str = "Ev1", retry: int | None = None) -> httpx.Response:
    """An Events API delivery; ``retry`` sets X-Slack-Retry-Num as Slack does when it re-sends."""
    body = json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": event_id,
                       "event_time": int(time.time()), "event": event})
    headers = {} if retry is None else {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return signed_post(url, body, "application/json", headers)


# -- the app under test ------------------------------------------------------------------------

from types import SimpleNamespace  # noqa: E402

import pytest  # noqa: E402


def spy_on_questions(library) -> list:
    """Record what the library is asked (question, history, scope) and still answer for real."""
    asked = []
    answer = library.ask

    def ask(question, history=(), scope=()):
        asked.append((question, list(history), tuple(scope)))
        return answer(question, history, scope)

    library.ask = ask
    return asked


@pytest.fixture
def paper_app(shipped_library, tmp_path):
    from slack_bolt import App
    from slack_sdk import WebClient

    from paperbot.bot.listeners import add_paper, commands, home
    from paperbot.config import load_settings

    fake, slack_server = start_fake_slack()
    slack_base = f"http://127.0.0.1:{slack_server.server_port}/"
    settings = load_settings(data_dir=shipped_library.settings.data_dir, corpus_dir=shipped_library.settings.corpus_dir,
                             slack_api_url=slack_base + "api/", digest={"channel": "C9DIGEST"},
                             slack_signing_secret=SIGNING_SECRET)
    library = shipped_library
    asked = spy_on_questions(library)
    from paperbot.bot.state.store import State

    state = State(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    app = App(signing_secret=SIGNING_SECRET, client=WebClient(token="xoxb-test", base_url=slack_base + "api/"))
    from paperbot.bot.deps import Deps
    from paperbot.retrieval.corpus.arxiv import ArxivClient

    deps = Deps(settings=settings, library=library, state=state, arxiv=ArxivClient.from_settings(settings))
    for module in (commands, add_paper, home):
        module.register(app, deps)
    url, app_server = serve_bolt_app(app, settings)
    fake.calls.clear()

    def paper_titled(prefix):
        (paper,) = [p for p in library.papers() if p.title.startswith(prefix)]
        return paper

    yield SimpleNamespace(url=url, slack=fake, slack_base=slack_base, library=library, state=state, asked=asked,
                          settings=settings, paper_titled=paper_titled)
    app_server.shutdown()
    slack_server.shutdown()


# -- the whole app (every surface, built as `paperbot serve` builds it) ------------------------

BOT_USER = "UBOT"  # what the fake answers to auth.test


class Bot:
    """The full Bolt app served over HTTP, driven with signed Events API deliveries."""

    def __init__(self, fake, url, state, library, fake_server_base=""):
        self.fake, self.url, self.state, self.library = fake, url, state, library
        self.fake_server_base = fake_server_base

    def event(self, event: dict, event_id: str, retry: int | None = None, secret: str = SIGNING_SECRET):
        body = json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": event_id,
                           "event_time": int(time.time()), "event": event})
        timestamp = str(int(time.time()))
        headers = {"X-Slack-Request-Timestamp": timestamp, "Content-Type": "application/json",
                   "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)}
        if retry is not None:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        return httpx.post(self.url, content=body, headers=headers, timeout=10)

    def posts(self):
        return self.fake.of("chat.postMessage")


def bot_settings(data_dir, slack_base: str, **extra):
    from paperbot.config import load_settings

    return load_settings(data_dir=data_dir, slack_api_url=slack_base + "api/", slack_bot_token="xoxb-test",
                         slack_signing_secret=SIGNING_SECRET, **extra)


@pytest.fixture
def make_bot(shipped_library, tmp_path):
    """make_bot(**settings) -> Bot: the whole app over HTTP against a fresh fake Slack."""
    from paperbot.bot.app import build_app
    from paperbot.bot.web.server import serve_in_thread
    from paperbot.bot.state.store import State

    servers = []

    def make(**extra) -> Bot:
        fake, slack_server = start_fake_slack()
        slack_base = f"http://127.0.0.1:{slack_server.server_port}/"
        state = State(f"sqlite:///{tmp_path / f'state-{len(servers)}.sqlite3'}")
        settings = bot_settings(shipped_library.settings.data_dir, slack_base, **extra)
        server = serve_in_thread(build_app(settings, shipped_library, state), settings)
        servers.extend([server, slack_server])
        return Bot(fake, f"http://127.0.0.1:{server.server_port}/slack/events", state, shipped_library, slack_base)

    yield make
    for server in servers:
        server.shutdown()


@pytest.fixture
def bot(make_bot):
    return make_bot()
