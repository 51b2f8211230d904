"""Write the answer matcher's sentence vectors of the shipped corpus into data/answer_vectors/.

    PAPERBOT_DATA_DIR=... python scripts/ship_answer_vectors.py

Run after `paperbot ingest` of the shipped corpus whenever the corpus or the sentence splitter
changes: with them shipped, a fresh install's first questions don't wait for the encoding
(~0.7 s a paper). Files no longer used are removed.
"""

from __future__ import annotations

import numpy as np

from paperbot.config import load_settings
from paperbot.retrieval.sentences.answer_match import SHIPPED_DIR, vectors_key
from paperbot.retrieval.library import Library


def main() -> None:
    library = Library(load_settings())
    SHIPPED_DIR.mkdir(parents=True, exist_ok=True)
    kept = set()
    for paper in library.papers():
        found = library.sentences.of(paper)
        if not found.texts:
            continue
        key = vectors_key(found.texts)
        np.save(SHIPPED_DIR / f"{key}.npy", found.answer_vectors.astype(np.float16))
        kept.add(f"{key}.npy")
    for stale in SHIPPED_DIR.glob("*.npy"):
        if stale.name not in kept:
            stale.unlink()
    print(f"{len(kept)} papers' sentence vectors in {SHIPPED_DIR}")


if __name__ == "__main__":
    main()
