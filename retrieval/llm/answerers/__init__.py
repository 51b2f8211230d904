"""Answerers, picked from settings through one registry."""

from __future__ import annotations

from collections.abc import Callable

from ....config import Settings
from .base import Answerer, AnswererUnavailable, ClaimChecker, Draft, Evidence, written


def _local(settings: Settings) -> Answerer:
    from .local import LocalAnswerer

    return LocalAnswerer(settings)


def _openai(settings: Settings) -> Answerer:
    from .openai_chat import OpenAIAnswerer

    return OpenAIAnswerer(settings)


def _llama_cpp(settings: Settings) -> Answerer:
    from .llama_cpp import LlamaCppAnswerer

    return LlamaCppAnswerer(settings)


ANSWERERS: dict[str, Callable[[Settings], Answerer]] = {
    "local": _local,
    "openai": _openai,
    "llama_cpp": _llama_cpp,
}


def build_answerer(settings: Settings) -> Answerer:
    return ANSWERERS[settings.answerer_name](settings)


__all__ = ["Answerer", "AnswererUnavailable", "ClaimChecker", "Draft", "Evidence", "written", "build_answerer",
           "ANSWERERS"]
