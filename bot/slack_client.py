"""The Slack Web API client: base URL from settings, rate limits and transient errors retried by slack-sdk."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from ..config import Settings


def bot_token(settings: Settings) -> str | None:
    return settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None


def retry_handlers() -> list[RetryHandler]:
    return [
        RateLimitErrorRetryHandler(max_retry_count=3),  # 429: waits Retry-After, then retries
        ServerErrorRetryHandler(max_retry_count=2),
        ConnectionErrorRetryHandler(max_retry_count=2),
    ]


def build_web_client(settings: Settings) -> WebClient:
    return WebClient(token=bot_token(settings), base_url=settings.slack_api_url, retry_handlers=retry_handlers())


def configure_web_client(client: WebClient, settings: Settings) -> WebClient:
    """A client built elsewhere (Bolt's own), given this settings' API URL and retries."""
    url = settings.slack_api_url
    client.base_url = url if url.endswith("/") else url + "/"  # as WebClient's constructor has it
    client.retry_handlers = retry_handlers()
    return client
