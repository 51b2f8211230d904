"""Why `paperbot serve` could not start: one line naming the cause and the setting to check.

Start-up touches everything the bot depends on — Slack's Web API, the index (embedded or a Chroma
server), the state database, the data directory, the listening port — and each failure is
explained here instead of as a traceback (`paperbot serve --debug` shows that). No line carries a
secret: tokens, the signing secret and a database password are masked wherever they would appear.
"""

from __future__ import annotations

import errno
import logging
import urllib.error
from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from ...config import Settings

_UNWRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT)
_APP_TOKEN_METHODS = ("apps.connections.open",)  # called with the app-level token (Socket Mode)


class SlackUnreachable(Exception):
    """Slack's Web API could not be reached at all (connection refused, DNS, TLS, timeout)."""


class _NoSlackLibraries(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(("slack_sdk", "slack_bolt"))


@contextmanager
def quiet_slack_logs(quiet: bool = True) -> Iterator[None]:
    """Leave out slack-sdk's and Bolt's own lines about each failed attempt and retry while starting:
    a failure is reported once, by `explain`."""
    handlers = logging.getLogger().handlers if quiet else []
    dropped = _NoSlackLibraries()
    for handler in handlers:
        handler.addFilter(dropped)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(dropped)


def check_slack(client: WebClient, *, quiet: bool = True) -> None:
    """Ask Slack who the bot token belongs to: a refused token is a SlackApiError, no answer SlackUnreachable."""
    try:
        with quiet_slack_logs(quiet):
            client.auth_test()
    except (urllib.error.URLError, OSError) as exc:
        raise SlackUnreachable(getattr(exc, "reason", None) or exc) from exc


def explain(exc: BaseException, settings: Settings) -> str:
    """The cause of a start-up failure and what to check, with every secret masked."""
    return redact(_explain(exc, settings), settings)


def _explain(exc: BaseException, settings: Settings) -> str:
    from .server import TokenError
    from ...retrieval.errors import StoreError

    if isinstance(exc, (TokenError, StoreError)):
        return str(exc)  # these already name the setting (SLACK_BOT_TOKEN, PAPERBOT_CHROMA__HOST …)
    if isinstance(exc, SlackUnreachable):
        return (f"cannot reach Slack's Web API at {settings.slack_api_url} ({exc}): check the network, or "
                "PAPERBOT_SLACK_API_URL if it is set")
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        method = str(getattr(exc.response, "api_url", "")).rstrip("/").rsplit("/", 1)[-1]
        token = "SLACK_APP_TOKEN" if method in _APP_TOKEN_METHODS else "SLACK_BOT_TOKEN"
        return (f"Slack refused {method or 'the request'}: {error}; check {token} (the app's token from its "
                "Slack settings page: reinstalled apps get new ones)")
    if isinstance(exc, SQLAlchemyError):
        return _database(exc, settings)
    if isinstance(exc, OSError):
        return _os_error(exc, settings)
    return (f"paperbot serve could not start: {type(exc).__name__}: {_first_line(str(exc))} "
            "(run `paperbot serve --debug` for the traceback)")


def _database(exc: SQLAlchemyError, settings: Settings) -> str:
    import sqlalchemy as sa

    cause = _first_line(str(getattr(exc, "orig", None) or exc))
    where = sa.make_url(settings.state_url).render_as_string(hide_password=True)
    if settings.database_url:
        return f"cannot open the state database {where}: {cause}; check PAPERBOT_DATABASE_URL (is the server up?)"
    return (f"cannot open the state database {where}: {cause}; check that PAPERBOT_DATA_DIR "
            f"({settings.data_dir}) is writable, or set PAPERBOT_DATABASE_URL")


def _os_error(exc: OSError, settings: Settings) -> str:
    from ...retrieval.library import describe_os_error

    if exc.errno == errno.EADDRINUSE:
        return f"port {settings.port} is already in use: set PAPERBOT_PORT to a free one"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on that address ({exc.strerror}): check --host"
    where = f" {exc.filename}" if exc.filename else ""
    verb = "write" if exc.errno in _UNWRITABLE else "use"
    return (f"cannot {verb}{where}: {describe_os_error(exc)}; make it writable, or point PAPERBOT_DATA_DIR at a "
            "directory that is")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def redact(text: str, settings: Settings) -> str:
    """``text`` with every configured secret (tokens, signing secret, API key, database password) masked."""
    import sqlalchemy as sa

    secrets = [value.get_secret_value() for value in (settings.slack_bot_token, settings.slack_app_token,
                                                      settings.slack_signing_secret, settings.openai_api_key)
               if value is not None]
    if settings.database_url:
        try:
            secrets.append(sa.make_url(settings.database_url).password or "")
        except sa.exc.ArgumentError:
            secrets.append(settings.database_url)  # unparsable: mask it whole
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
