"""The one module that builds LLM clients, and turns their failures into one-line user notes.

`openai` serves OpenAI itself and every OpenAI-compatible server (Ollama, vLLM, llama.cpp
server, LM Studio) by ``base_url``; its client already retries 429/5xx/timeouts with
exponential backoff that honours ``Retry-After``, so nothing here sleeps or retries by hand.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import openai

from paperbot.config import Settings, SettingsError
from paperbot.retrieval.answerers.base import AnswererUnavailable

if TYPE_CHECKING:
    import llama_cpp

log = logging.getLogger(__name__)

# Local OpenAI-compatible servers ignore the key, but the client insists on having one.
PLACEHOLDER_API_KEY = "not-needed"

FALLBACK = "here is the extractive answer."

# First match wins, so subclasses come before their bases (APITimeoutError < APIConnectionError).
_USER_NOTES: tuple[tuple[type[BaseException], str], ...] = (
    (openai.APITimeoutError, f"The language model timed out; {FALLBACK}"),
    (openai.APIConnectionError, f"The language model server could not be reached; {FALLBACK}"),
    (openai.RateLimitError, f"The language model is rate-limited right now; {FALLBACK}"),
    (openai.AuthenticationError, f"The language model rejected the API key; {FALLBACK}"),
    (openai.PermissionDeniedError, f"The language model rejected the API key; {FALLBACK}"),
    (openai.NotFoundError, f"The configured language model was not found on its server; {FALLBACK}"),
    (openai.InternalServerError, f"The language model server had an error; {FALLBACK}"),
    (openai.APIStatusError, f"The language model refused the request; {FALLBACK}"),
    (openai.APIError, f"The language model failed; {FALLBACK}"),
    (json.JSONDecodeError, f"The language model sent a reply that could not be read; {FALLBACK}"),
)
# Failures whose server message may echo the credential back: never chain them (tracebacks print it).
_MAY_ECHO_KEY = (openai.AuthenticationError, openai.PermissionDeniedError)

EMPTY_REPLY_NOTE = f"The language model returned an empty answer; {FALLBACK}"
CUT_OFF_NOTE = f"The language model's answer was cut off; {FALLBACK}"


def _api_key(settings: Settings) -> str | None:
    return settings.openai_api_key.get_secret_value() if settings.openai_api_key else None


def openai_client(settings: Settings) -> openai.OpenAI:
    """The chat client for OpenAI or an OpenAI-compatible server, as settings say."""
    key = _api_key(settings)
    if not key and not settings.llm.base_url:
        raise SettingsError(
            "The openai answerer needs OPENAI_API_KEY, or PAPERBOT_LLM__BASE_URL for an OpenAI-compatible server."
        )
    return openai.OpenAI(
        api_key=key or PLACEHOLDER_API_KEY,
        base_url=settings.llm.base_url,
        timeout=settings.llm.timeout_s,
        max_retries=settings.llm.max_retries,
    )


def llama_cpp_model(settings: Settings) -> "llama_cpp.Llama":
    """An in-process GGUF model (the optional ``llama-cpp`` extra); imported only when chosen."""
    path = settings.llm.gguf_path
    if path is None:
        raise SettingsError("PAPERBOT_LLM__GGUF_PATH: the llama_cpp answerer needs a GGUF model file.")
    if not path.is_file():
        raise SettingsError(f"PAPERBOT_LLM__GGUF_PATH: no GGUF file at {path}.")
    try:
        import llama_cpp
    except ImportError:
        raise SettingsError(
            "PAPERBOT_LLM__ANSWERER=llama_cpp needs llama-cpp-python: pip install 'paperbot[llama-cpp]'."
        ) from None
    return llama_cpp.Llama(model_path=str(path), n_ctx=4096, verbose=False)


def _redact(text: str, settings: Settings) -> str:
    key = _api_key(settings)
    return text.replace(key, "***") if key else text


def unavailable(exc: BaseException, settings: Settings) -> AnswererUnavailable:
    """The :class:`AnswererUnavailable` to raise for a failed LLM call; logs the cause without secrets."""
    note = next((note for kind, note in _USER_NOTES if isinstance(exc, kind)), f"The language model failed; {FALLBACK}")
    status = getattr(exc, "status_code", None)
    log.warning(
        "LLM call to %s failed: %s%s: %s",
        settings.llm.base_url or "OpenAI", type(exc).__name__,
        f" (HTTP {status})" if status else "", _redact(str(exc), settings),
    )
    return AnswererUnavailable(note, cause=None if isinstance(exc, _MAY_ECHO_KEY) else exc)
