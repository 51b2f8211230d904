"""The one module that builds LLM clients, and turns their failures into one-line user notes.

`openai` serves OpenAI itself and every OpenAI-compatible server (Ollama, vLLM, llama.cpp
server, LM Studio) by ``base_url``; the chat answerer and the OpenAI embedder share
:func:`openai_client`. The answerer retries within its answer's deadline itself (the client's
own retries know nothing of that deadline).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
from typing import TYPE_CHECKING

import openai
import pydantic

from ...config import Settings, SettingsError
from .answerers.base import AnswererUnavailable

if TYPE_CHECKING:
    import llama_cpp

log = logging.getLogger(__name__)

# Local OpenAI-compatible servers ignore the key, but the client insists on having one.
PLACEHOLDER_API_KEY = "not-needed"

from .notes import FAILED_NOTE, FALLBACK, TIMED_OUT_NOTE, UNREADABLE_NOTE  # noqa: E402

# First match wins, so subclasses come before their bases (APITimeoutError < APIConnectionError).
_USER_NOTES: tuple[tuple[type[BaseException], str], ...] = (
    (openai.APITimeoutError, TIMED_OUT_NOTE),
    (openai.APIConnectionError, f"The language model server could not be reached; {FALLBACK}"),
    (openai.RateLimitError, f"The language model is rate-limited right now; {FALLBACK}"),
    (openai.AuthenticationError, f"The language model rejected the API key; {FALLBACK}"),
    (openai.PermissionDeniedError, f"The language model rejected the API key; {FALLBACK}"),
    (openai.NotFoundError, f"The configured language model was not found on its server; {FALLBACK}"),
    (openai.InternalServerError, f"The language model server had an error; {FALLBACK}"),
    (openai.APIStatusError, f"The language model refused the request; {FALLBACK}"),
    (openai.APIResponseValidationError, UNREADABLE_NOTE),
    (openai.APIError, FAILED_NOTE),
    (json.JSONDecodeError, UNREADABLE_NOTE),
    (UnicodeDecodeError, UNREADABLE_NOTE),
    (pydantic.ValidationError, UNREADABLE_NOTE),
)
# Failures whose server message may echo the credential back: never chain them (tracebacks print it).
_MAY_ECHO_KEY = (openai.AuthenticationError, openai.PermissionDeniedError)
# What `unavailable` turns into a note: the client's errors and replies that are not what they claim.
LLM_ERRORS = (openai.OpenAIError, json.JSONDecodeError, UnicodeDecodeError, pydantic.ValidationError)


def _http_library():
    """The HTTP library under `openai` (httpx; httpx2 in newer releases): its errors reach us while a body is read."""
    client = next(c for c in openai.DefaultHttpxClient.__mro__ if c.__name__ == "Client")
    return importlib.import_module(client.__module__.split(".")[0])


# Raised while a reply's body is read, after the client handed it over.
READ_TIMED_OUT = _http_library().TimeoutException
READ_FAILED = _http_library().TransportError


def _api_key(settings: Settings) -> str | None:
    return settings.openai_api_key.get_secret_value() if settings.openai_api_key else None


def openai_client(settings: Settings) -> openai.OpenAI:
    """The client for OpenAI or an OpenAI-compatible server, as settings say (chat and embeddings)."""
    key = _api_key(settings)
    if not key and not settings.llm.base_url:
        raise SettingsError("needs OPENAI_API_KEY, or PAPERBOT_LLM__BASE_URL for an OpenAI-compatible server.")
    llm = settings.llm
    return openai.OpenAI(
        api_key=key or PLACEHOLDER_API_KEY,
        base_url=llm.base_url,
        timeout=llm.timeout_s or llm.deadline,
        max_retries=llm.retries,
    )


def llama_cpp_model(settings: Settings) -> "llama_cpp.Llama":
    """An in-process GGUF model (the optional ``llama-cpp`` extra); imported only when chosen."""
    llm = settings.llm
    path = llm.gguf_path
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
    # llama-cpp-python's own default is half the cores (1 on a 2-core machine).
    threads = llm.threads or os.cpu_count() or 1
    return llama_cpp.Llama(model_path=str(path), n_ctx=llm.context_length, n_threads=threads,
                           n_threads_batch=threads, chat_format=llm.chat_format, verbose=False)


def redact(text: str, settings: Settings) -> str:
    """The text with the API key masked (servers echo it in some error messages)."""
    key = _api_key(settings)
    return text.replace(key, "***") if key else text


def unavailable(exc: BaseException, settings: Settings) -> AnswererUnavailable:
    """The :class:`AnswererUnavailable` to raise for a failed LLM call; logs the cause without secrets."""
    note = next((note for kind, note in _USER_NOTES if isinstance(exc, kind)), FAILED_NOTE)
    status = getattr(exc, "status_code", None)
    log.warning(
        "LLM call to %s failed: %s%s: %s",
        settings.llm.base_url or "OpenAI", type(exc).__name__,
        f" (HTTP {status})" if status else "", redact(str(exc), settings)[:500],
    )
    return AnswererUnavailable(note, cause=None if isinstance(exc, _MAY_ECHO_KEY) else exc)
