"""Run the Bolt app: Socket Mode with an app token, else HTTP mode (for replicas behind a load balancer).

HTTP mode is served by waitress, a production WSGI server in pure Python: one process with a
pool of threads, which suits the bot (one in-memory index and one digest scheduler per replica;
Bolt acknowledges at once and answers in its own worker threads). Scale out with replicas.
"""

from __future__ import annotations

import json
import logging
import threading

from slack_bolt import App
from waitress import wasyncore
from waitress.server import create_server

from ...config.errors import PaperbotError
from .readiness import Readiness
from .slack_gate import SlackGate
from ...config import Settings

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"


class TokenError(PaperbotError, ValueError):
    """A Slack token is missing or malformed; the message says which."""


def check_tokens(settings: Settings) -> str:
    """The mode to run in ('socket' or 'http'), or TokenError naming the missing/malformed token."""
    bot = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not bot:
        raise TokenError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-…, from your app's OAuth page)")
    if not bot.startswith("xoxb-"):
        raise TokenError("SLACK_BOT_TOKEN is malformed: a bot token starts with xoxb-")
    if settings.slack_app_token:
        if not settings.slack_app_token.get_secret_value().startswith("xapp-"):
            raise TokenError("SLACK_APP_TOKEN is malformed: an app-level token starts with xapp-")
        return "socket"
    if not settings.slack_signing_secret or not settings.slack_signing_secret.get_secret_value():
        raise TokenError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it (or set SLACK_APP_TOKEN for Socket Mode)")
    return "http"


def _plain(start_response, status: str, text: str, content_type: str = "text/plain; charset=utf-8"):
    body = text.encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def wsgi_app(app: App, settings: Settings, readiness: Readiness | None = None):
    """Slack's endpoint, `/healthz` (the process is up) and `/readyz` (it can answer)."""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    slack = SlackGate(app, secret, settings.http.max_body_bytes)

    def application(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH:
            return slack(environ, start_response)
        if path == HEALTH_PATH:
            return _plain(start_response, "200 OK", "ok")
        if path == READY_PATH:
            ready, outcomes = readiness() if readiness else (True, {})
            return _plain(start_response, "200 OK" if ready else "503 Service Unavailable", json.dumps(outcomes),
                          "application/json")
        return _plain(start_response, "404 Not Found", "not found")

    return application


class HttpServer:
    """waitress serving the app: `serve_forever()` in the foreground, `start()` in a thread."""

    def __init__(self, application, settings: Settings, host: str, port: int):
        http = settings.http
        self._server = create_server(
            application, host=host, port=port, ident="paperbot",
            threads=http.threads,
            backlog=http.backlog,  # connections the kernel queues while every thread is busy
            connection_limit=http.connection_limit,
            max_request_body_size=http.max_body_bytes,  # waitress answers 413 past this
            channel_timeout=http.idle_timeout_s,
            expose_tracebacks=False,
            asyncore_use_poll=True,  # no select() limit on open descriptors
        )
        self.host = host
        self.server_port: int = self._server.effective_port
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        self._server.run()

    def start(self) -> "HttpServer":
        self._thread = threading.Thread(target=self.serve_forever, name="http-server", daemon=True)
        self._thread.start()
        return self

    def shutdown(self) -> None:
        self._server.task_dispatcher.shutdown(timeout=5)
        wasyncore.close_all(self._server._map)  # the loop ends when nothing is left to watch
        if self._thread:
            self._thread.join(timeout=5)


def socket_mode_handler(app: App, settings: Settings):
    """Socket Mode: the app opens a websocket to Slack (no public URL); slack-sdk's built-in client."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if settings.slack_app_token is None:
        raise TokenError("SLACK_APP_TOKEN is not set: Socket Mode needs it")
    return SocketModeHandler(app, settings.slack_app_token.get_secret_value())


def http_server(app: App, settings: Settings, host: str, port: int, readiness: Readiness | None = None) -> HttpServer:
    """The production HTTP server for the app (port 0 picks a free one)."""
    return HttpServer(wsgi_app(app, settings, readiness), settings, host, port)


def serve_in_thread(app: App, settings: Settings, host: str = "127.0.0.1", port: int = 0,
                    readiness: Readiness | None = None) -> HttpServer:
    return http_server(app, settings, host, port, readiness).start()
