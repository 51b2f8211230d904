"""Safe text for Slack mrkdwn: escaped user and corpus text, links that cannot ping anyone."""

from __future__ import annotations

import re

_SAFE_URL = re.compile(r"^https?://[^\s<>|]+$")


def escape(text: str) -> str:
    """Escape the three characters Slack reserves, so ``<!channel>`` or ``<@U1>`` stays plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) one (nothing that could break out of a link), else None."""
    return url if url and _SAFE_URL.match(url) else None


def link(url: str | None, label: str) -> str:
    """A mrkdwn link to an http(s) URL; the bare (escaped) label when the URL is not one."""
    safe = safe_url(url)
    if safe:
        return f"<{safe.replace('&', '&amp;')}|{escape(label)}>"
    return escape(label)
