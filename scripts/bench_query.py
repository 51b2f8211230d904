"""Benchmark: warm query latency (p50/p95) with the offline defaults, and `paperbot ask` cold start.

    python scripts/bench_query.py [--synthetic N]

Shipped corpus: the dev questions, each asked 5 times after a warm-up. Synthetic: N generated
papers indexed once into a temporary directory (slow: the embedding dominates), then queried.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from config import load_settings
from retrieval.library import Library

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from bench_ingest import synthetic_corpus  # noqa: E402

QUESTIONS = [json.loads(line)["question"] for line in (REPO / "tests" / "fixtures" / "dev.jsonl").read_text().splitlines()]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def warm_latency(library: Library, questions: list[str], rounds: int = 5) -> tuple[float, float]:
    library.ask(questions[0])  # warm-up: loads the model and the BM25 index
    samples = []
    for _ in range(rounds):
        for question in questions:
            start = time.perf_counter()
            library.ask(question)
            samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def cold_start(data_dir: Path, runs: int = 3) -> float:
    env = dict(os.environ, PAPERBOT_DATA_DIR=str(data_dir))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot.cli", "ask", "who wrote Reformer?"], env=env, check=True,
                       capture_output=True, cwd=REPO)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=10_000, help="synthetic papers (0 to skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        library = Library(load_settings(data_dir=Path(data)))
        library.ingest()
        p50, p95 = warm_latency(library, QUESTIONS)
        print(f"shipped corpus (64 papers): warm query p50 {p50:.0f} ms, p95 {p95:.0f} ms", flush=True)
        print(f"`paperbot ask` cold start (median of 3): {cold_start(Path(data)):.2f} s", flush=True)
    if args.synthetic:
        with tempfile.TemporaryDirectory() as tmp:
            corpus = synthetic_corpus(Path(tmp) / "corpus", args.synthetic)
            library = Library(load_settings(data_dir=Path(tmp) / "data"))
            start = time.perf_counter()
            library.ingest([corpus], progress=True)
            print(f"synthetic index of {args.synthetic} papers built in {time.perf_counter() - start:.0f} s", flush=True)
            p50, p95 = warm_latency(library, QUESTIONS, rounds=2)
            print(f"synthetic corpus ({args.synthetic} papers): warm query p50 {p50:.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()
