"""Logging for `paperbot` commands: one format, and no Slack payloads in the log at any level.

slack_bolt and slack_sdk log whole request and response bodies at DEBUG (what people asked, the
answers, form contents). The handler drops those records, so PAPERBOT_LOG_LEVEL=DEBUG shows
paperbot's own detail without copying users' messages into the log.
"""

from __future__ import annotations

import logging
from typing import TextIO

_PAYLOAD_LOGGERS = ("slack_bolt", "slack_sdk")
# Libraries whose INFO/WARNING lines are noise for people running paperbot: Alembic narrates every
# migration step on each start; pypdf warns about damaged files with raw bytes in the message (a
# PDF that cannot be read is reported by the ingest itself, in one line).
_QUIET = {"alembic": logging.WARNING, "pypdf": logging.ERROR}


class NoSlackPayloads(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.INFO or not record.name.startswith(_PAYLOAD_LOGGERS)


def configure_logging(level: str | int, stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(NoSlackPayloads())
    logging.basicConfig(level=level, handlers=[handler])  # a no-op when logging is already set up
    if logging.getLevelName(level) != "DEBUG" and level != logging.DEBUG:
        for name, quiet_level in _QUIET.items():
            logging.getLogger(name).setLevel(quiet_level)
    return handler
