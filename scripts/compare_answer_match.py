"""Which similarity puts the answering sentence first: the corpus embedder or the answer matcher?

    PAPERBOT_DATA_DIR=... python scripts/compare_answer_match.py [LABELLED ...]

For every labelled single question (default: the shipped training split) whose gold paper has a
sentence stating the answer, each similarity ranks that paper's quotable sentences; the figure is
how often its first sentence is an answering one. Ingest the shipped corpus first.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from paperbot.config import load_settings
from paperbot.retrieval.answering.pipeline import understand
from paperbot.retrieval.library import Library
from paperbot.retrieval.training.labelled import CATALOG, TRAIN_DIR, map_catalog, read_labelled
from paperbot.retrieval.training.reader_fitting import answering


def main(paths: list[Path]) -> None:
    library = Library(load_settings())
    index, sentences = library.searcher.index, library.sentences
    singles, _ = read_labelled(paths, map_catalog(CATALOG, library.papers()))
    first: dict[str, list[bool]] = {"corpus embedder (MiniLM)": [], "answer matcher (e5)": []}
    for item in singles:
        if item.type != "single" or not item.gold or item.gold[0] not in index.papers:
            continue
        found = sentences.of(index.papers[item.gold[0]])
        gold = answering(item, list(found.texts))
        if not any(gold):
            continue
        q = understand(library.searcher, item.question)
        for name, scores in (("corpus embedder (MiniLM)", found.similarities(q.embedding)),
                             ("answer matcher (e5)", found.answer_similarities(q.answer_query(sentences)))):
            first[name].append(gold[int(np.argmax(scores))])
    for name, hits in first.items():
        print(f"{name:28} answering sentence first {np.mean(hits):.3f}  (n={len(hits)})")


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or [TRAIN_DIR])
