"""Benchmark: ingest throughput, unchanged re-ingest and peak memory, shipped and synthetic corpora.

    python scripts/bench_ingest.py [--synthetic N [N ...]] [--stand-in-embedder] [--skip-shipped]

Prints papers/s, chunks/s, the unchanged re-ingest time (in-process with a fresh Library, as a
new process sees the index, and as a `paperbot ingest` command, start-up included) and the peak
resident memory. Each corpus is indexed into a fresh temporary data directory with the offline
defaults. Embedding 10,000 papers with MiniLM takes ~20 min on 2 cores; --stand-in-embedder
builds the synthetic indexes with a fast hashed bag of words of the same dimension instead (an
unchanged re-ingest embeds nothing, so its time does not depend on what the vectors mean).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
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


def command_seconds(corpus: Path, data: Path, runs: int = 3) -> float:
    """Median wall time of `paperbot ingest --quiet CORPUS` in a new process (start-up included)."""
    env = dict(os.environ, PAPERBOT_DATA_DIR=str(data), PAPERBOT_LOG_LEVEL="WARNING")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "paperbot.bot.cli", "ingest", "--quiet", str(corpus)],
                       env=env, check=True, capture_output=True, cwd=REPO)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench(name: str, corpus: Path, *, stand_in: bool = False) -> None:
    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(data_dir=Path(data), corpus_dir=corpus)
        library = Library(settings)
        if stand_in:
            from bench_query import HashedBagOfWords  # the stand-in the query benchmark builds with

            library.embedder = HashedBagOfWords()
        start = time.perf_counter()
        report = library.ingest([corpus], progress=True)
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = Library(settings).ingest([corpus])  # a fresh Library: nothing cached from the build
        second = time.perf_counter() - start
        papers = report.papers_indexed
        built_with = " (stand-in embedder)" if stand_in else ""
        print(f"{name}: {papers} papers, {report.chunks_embedded} chunks in {first:.1f}s{built_with} "
              f"-> {papers / first:.1f} papers/s, {report.chunks_embedded / first:.1f} chunks/s; "
              f"unchanged re-ingest {second:.2f}s in-process ({again.unchanged} unchanged, "
              f"{getattr(again, 'files_read', 'all')} files parsed, {again.chunks_embedded} chunks embedded), "
              f"{command_seconds(corpus, Path(data)):.2f}s as "
              f"`paperbot ingest` (median of 3); peak RSS so far {peak_rss_mb():.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, nargs="*", default=[10_000],
                        help="sizes of synthetic corpora (none, or 0, to skip)")
    parser.add_argument("--stand-in-embedder", action="store_true",
                        help="build the synthetic indexes with a fast stand-in embedder")
    parser.add_argument("--skip-shipped", action="store_true", help="skip the shipped corpus")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if not args.skip_shipped:
        bench("shipped corpus", REPO / "data" / "corpus")
    for size in [n for n in args.synthetic if n]:
        with tempfile.TemporaryDirectory() as tmp:
            bench(f"synthetic corpus of {size}", synthetic_corpus(Path(tmp) / "corpus", size),
                  stand_in=args.stand_in_embedder)


if __name__ == "__main__":
    main()
