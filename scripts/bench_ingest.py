"""Benchmark: ingest throughput and peak memory, on the shipped corpus and a synthetic one.

    python scripts/bench_ingest.py [--synthetic N]

Prints papers/s, chunks/s, the unchanged re-ingest time and the peak resident memory.
Each corpus is indexed into a fresh temporary data directory with the offline defaults.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

from paperbot.config import load_settings
from paperbot.retrieval.library import Library

REPO = Path(__file__).resolve().parent.parent
WORDS = (
    "attention", "sparse", "gradient", "pooling", "transformer", "latent", "policy", "reward",
    "convolution", "kernel", "retrieval", "index", "embedding", "batch", "pipeline", "throughput",
    "memory", "quantization", "pruning", "distillation", "graph", "node", "token", "decoder",
    "encoder", "benchmark", "dataset", "robustness", "calibration", "uncertainty",
)


def synthetic_corpus(folder: Path, n: int, seed: int = 7) -> Path:
    """n Markdown summaries of 120-220 words each, with front matter."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        title = " ".join(rng.choice(WORDS).title() for _ in range(5)) + f" {i}"
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 22))).capitalize() + "."
                     for _ in range(rng.randint(8, 12))]
        (folder / f"paper-{i:05d}.md").write_text(
            f"---\ntitle: {title}\nauthors: [Author {i % 97}, Author {i % 89}]\n---\n{' '.join(sentences)}\n")
    return folder


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench(name: str, corpus: Path) -> None:
    with tempfile.TemporaryDirectory() as data:
        library = Library(load_settings(data_dir=Path(data), corpus_dir=corpus))
        start = time.perf_counter()
        report = library.ingest([corpus], progress=True)
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = library.ingest([corpus])
        second = time.perf_counter() - start
        papers = report.papers_indexed
        print(f"{name}: {papers} papers, {report.chunks_embedded} chunks in {first:.1f}s "
              f"-> {papers / first:.1f} papers/s, {report.chunks_embedded / first:.1f} chunks/s; "
              f"unchanged re-ingest {second:.2f}s ({again.chunks_embedded} chunks embedded); "
              f"peak RSS so far {peak_rss_mb():.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=10_000, help="synthetic summaries (0 to skip)")
    args = parser.parse_args()
    bench("shipped corpus", REPO / "data" / "corpus")
    if args.synthetic:
        with tempfile.TemporaryDirectory() as tmp:
            bench("synthetic corpus", synthetic_corpus(Path(tmp) / "corpus", args.synthetic))


if __name__ == "__main__":
    main()
