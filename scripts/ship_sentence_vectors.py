"""Write the shipped corpus's sentence vectors into data/sentence_vectors/ (the corpus embedder's and
the answer matcher's), so a fresh install's first questions don't wait for them.

    PAPERBOT_DATA_DIR=... python scripts/ship_sentence_vectors.py

Run after `paperbot ingest` of the shipped corpus (offline defaults) whenever the corpus, the
sentence splitter or a model changes. Files no longer used are removed.
"""

from __future__ import annotations

import numpy as np

from paperbot.config import load_settings
from paperbot.retrieval.index.embeddings import embedder_id
from paperbot.retrieval.library import Library
from paperbot.retrieval.sentences.answer_match import MODEL_NAME
from paperbot.retrieval.sentences.kept_vectors import SHIPPED_DIR, model_folder, vectors_key


def main() -> None:
    library = Library(load_settings())
    folders = {model_folder(embedder_id(library.settings)): (lambda found: found.vectors, np.float32),
               model_folder(MODEL_NAME): (lambda found: found.answer_vectors, np.float16)}
    for folder, (vectors_of, dtype) in folders.items():
        target = SHIPPED_DIR / folder
        target.mkdir(parents=True, exist_ok=True)
        kept = set()
        for paper in library.papers():
            found = library.sentences.of(paper)
            if found.texts:
                name = f"{vectors_key(found.texts)}.npy"
                np.save(target / name, np.asarray(vectors_of(found)).astype(dtype))
                kept.add(name)
        for stale in target.glob("*.npy"):
            if stale.name not in kept:
                stale.unlink()
        print(f"{len(kept)} papers' sentence vectors in {target}")


if __name__ == "__main__":
    main()
