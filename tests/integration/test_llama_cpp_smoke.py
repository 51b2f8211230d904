"""Plumbing with a real GGUF model (not in CI): `pytest -m llm` with llama-cpp-python installed and
LLM_SMOKE_GGUF=/path/to/small-instruct.gguf. Checks that an answer or a clean failure note comes
back in time through the real llama.cpp bindings, not the quality of what a small model writes."""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pytest

from paperbot.config import load_settings
from paperbot.retrieval.llm.answerers.base import AnswererUnavailable, Evidence
from paperbot.retrieval.llm.deadline import Deadline, DeadlineExceeded
from paperbot.retrieval.types import Paper

GGUF = os.environ.get("LLM_SMOKE_GGUF", "")

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"),
    pytest.mark.skipif(not Path(GGUF).is_file(), reason="set LLM_SMOKE_GGUF to a small instruction-tuned GGUF file"),
]


def test_a_real_gguf_model_answers_or_fails_cleanly_within_the_deadline():
    from paperbot.retrieval.llm.answerers.llama_cpp import LlamaCppAnswerer

    answerer = LlamaCppAnswerer(load_settings(llm={"answerer": "llama_cpp", "gguf_path": GGUF, "max_tokens": 64}))
    paper = Paper(id="r", title="ResNet", source="s.txt",
                  text="ResNets add identity shortcut connections so that very deep networks train well.")
    started = time.monotonic()
    try:
        text = "".join(answerer.stream("What do ResNets add?", [Evidence(1, paper, paper.text, 1.0)], [],
                                       deadline=Deadline(120)))
        assert text.strip()
    except (AnswererUnavailable, DeadlineExceeded):
        pass  # a clean failure is fine: this checks the plumbing
    assert time.monotonic() - started < 121
