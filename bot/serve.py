"""Run the Bolt app: Socket Mode with an app token, else HTTP mode (for replicas behind a load balancer)."""

from __future__ import annotations

import logging
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from paperbot.config import Settings

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class TokenError(ValueError):
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


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib's name)
        log.debug(format, *args)


def wsgi_app(app: App):
    """Slack's endpoint plus a health check for the load balancer."""
    slack = SlackRequestHandler(app)

    def application(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if path == EVENTS_PATH:
            return slack(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return application


def http_server(app: App, host: str, port: int) -> WSGIServer:
    """A threaded HTTP server for the app (port 0 picks a free one)."""
    return make_server(host, port, wsgi_app(app), server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)


def serve_in_thread(app: App, host: str = "127.0.0.1", port: int = 0) -> WSGIServer:
    server = http_server(app, host, port)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server
