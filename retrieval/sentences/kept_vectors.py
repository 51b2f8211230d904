"""Sentence vectors computed once and kept: in memory, in the user cache dir, and shipped for the shipped corpus.

A paper's sentences cost one model run each (MiniLM ~13 ms, the answer matcher ~30 ms), paid the
first time a question reads the paper. Vectors depend only on the sentences' text and the model, so
they are kept under a hash of the text, per model, and a later process (or another replica on the
same machine) reads them back. The shipped corpus's vectors ship in `data/sentence_vectors/`
(`scripts/ship_sentence_vectors.py`), so a fresh install's first questions don't wait either.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MAX_IN_MEMORY = 4096  # papers' sentence vectors kept in memory, per model
SHIPPED_DIR = Path(__file__).parent.parent.parent / "data" / "sentence_vectors"


def vectors_key(texts: Sequence[str]) -> str:
    """The name a list of sentences' vectors are kept under: they depend on the text alone."""
    return hashlib.sha1("\n".join(texts).encode("utf-8")).hexdigest()


def model_folder(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model)


class KeptVectors:
    """One model's sentence vectors, computed by ``compute`` once per list of sentences; thread-safe."""

    def __init__(self, model: str, cache_dir: Path | None, shipped_dir: Path | None = SHIPPED_DIR,
                 dtype: type = np.float32):
        folder = model_folder(model)
        self._cache_dir = cache_dir / "sentence-vectors" / folder if cache_dir else None
        self._shipped_dir = shipped_dir / folder if shipped_dir else None  # read-only
        self._dtype = dtype  # as kept on disk (and in memory: the same scores in every process)
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, texts: Sequence[str], compute: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
        key = vectors_key(texts)
        with self._lock:
            found = self._memory.get(key)
        if found is None:
            found = self._from_disk(key, len(texts))
        if found is None:
            found = np.asarray(compute(texts)).astype(self._dtype).astype(np.float32)
            self._to_disk(key, found)
        with self._lock:
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
            np.save(tmp, vectors.astype(self._dtype))
            tmp.replace(path)  # readers never see half a file
        except OSError as exc:  # a read-only or full cache only costs the next process the encoding
            log.warning("could not keep the sentence vectors in %s: %s", path.parent, exc)
