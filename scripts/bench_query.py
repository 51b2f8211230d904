"""Benchmark: warm query latency (p50/p95) with the offline defaults, and `paperbot ask` cold start.

    python scripts/bench_query.py [--synthetic N]

Shipped corpus: the dev questions, each asked 5 times after a warm-up. Synthetic: N generated
papers indexed once into a temporary directory, then queried with the real offline model.
Embedding 10,000 papers with MiniLM takes ~25 min on 2 cores, so by default the synthetic index
is built with a stand-in embedder (hashed bag of words, same dimension): query latency depends
on the index size (Chroma HNSW, BM25), not on what the stored vectors mean. Pass --real-embeddings
to embed it with the model instead.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from llama_index.core.embeddings import BaseEmbedding

from paperbot.config import load_settings
from paperbot.retrieval.library import Library

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from bench_ingest import synthetic_corpus  # noqa: E402

DEV = REPO / "retrieval" / "training" / "labels" / "train" / "dev.jsonl"
QUESTIONS = [row["question"] for row in map(json.loads, DEV.read_text().splitlines())]


class HashedBagOfWords(BaseEmbedding):
    """A fast stand-in embedder for building big benchmark indexes: unit vectors of hashed words."""

    dimension: int = 384

    def _vector(self, text: str) -> list[float]:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in text.lower().split():
            vector[int(hashlib.blake2b(word.encode(), digest_size=4).hexdigest(), 16) % self.dimension] += 1.0
        return (vector / (np.linalg.norm(vector) or 1.0)).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)


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
        subprocess.run([sys.executable, "-m", "paperbot.bot.cli", "ask", "who wrote Reformer?"], env=env, check=True,
                       capture_output=True, cwd=REPO)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=10_000, help="synthetic papers (0 to skip)")
    parser.add_argument("--real-embeddings", action="store_true", help="embed the synthetic index with the model")
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
            real_embedder = library.embedder
            if not args.real_embeddings:
                library.embedder = HashedBagOfWords()  # only for building; queries use the model below
            start = time.perf_counter()
            library.ingest([corpus], progress=True)
            library.embedder = real_embedder
            library.__dict__.pop("searcher", None)  # rebuilt with the real embedder
            print(f"synthetic index of {args.synthetic} papers built in {time.perf_counter() - start:.0f} s", flush=True)
            p50, p95 = warm_latency(library, QUESTIONS, rounds=2)
            print(f"synthetic corpus ({args.synthetic} papers): warm query p50 {p50:.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()
