"""Benchmark: the live index at growing corpus sizes (a script that prints figures, not a test).

    python scripts/bench_live.py --sizes 1000 10000 100000 [--work DIR] [--vocabulary realistic|small]
    python scripts/bench_live.py --questions-only DATA_DIR   # an index already built

For each size N: N synthetic summaries are indexed into a data directory with a fast stand-in
embedder (hashed bag of words; embedding 100,000 papers with MiniLM would take hours on 2 cores;
query latency depends on the index size, not on what the stored vectors mean). Everything else
uses the offline defaults and the real MiniLM model for questions. The summaries and titles
draw their words from wordfreq's English list with Zipf's law (``--vocabulary realistic``, the
default), so the vocabulary grows with the corpus as a real one does and spelling correction and
title matching meet a real-sized vocabulary; ``--vocabulary small`` uses 30 distinct words.
Printed per size:

- build: papers/s of the stand-in ingest, disk (Chroma + the saved in-memory index);
- `paperbot ingest` with nothing changed, as a command;
- cold start of `paperbot ask` and `paperbot papers` beside `python -c "import chromadb"`, run in turn;
- correcting one misspelt corpus word, p50/p95 (`--questions-only`);
- question latency p50/p95 over the dev questions: first pass (each paper's sentences are embedded
  the first time it is asked about) and warm (second pass); `/paper` lookup latency p50/p95;
- first answer after `paperbot ingest` adds a paper in another process (the question was asked once
  before the add, as on a running server), beside a warm answer to the same question and the same
  question with no sentence embedded yet; whether the answer is about the new paper and its
  vectors reached this process; the refresh alone after a second add; RSS around the refresh;
  and the first answer a few seconds after a third add while the index follows the log in the
  background, as `paperbot serve` runs it.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import itertools
import random
import re
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from paperbot.config import load_settings
from paperbot.retrieval.index.embeddings import BaseEmbedding
from paperbot.retrieval.library import Library

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from bench_ingest import synthetic_corpus  # noqa: E402

DEV = REPO / "retrieval" / "training" / "labels" / "train" / "dev.jsonl"
QUESTIONS = [row["question"] for row in map(json.loads, DEV.read_text().splitlines())]
LOOKUPS = ["reformer", "lotery ticket", "frankle", "attention sparse pooling", "Author 12", "graph neural network"]
NEW_PAPER = """---
title: Quokka Gradient Lattices for Tidal Forecasting
authors: [Imogen Thistlewood]
---
Quokka lattices predict coastal tides from satellite altimetry. The lattice reduced forecast error by 41 percent
against harmonic analysis on 30 harbours, while training in under an hour on one GPU.
"""
KEYWORD_QUESTION = "How much did quokka lattices reduce tidal forecast error?"
MEANING_QUESTION = "Which paper predicts ocean tides along the coast from satellite measurements?"


class HashedBagOfWords(BaseEmbedding):
    """A fast stand-in embedder for building big benchmark indexes: unit vectors of hashed words."""

    model_name = "bench-hashed-bag-of-words"
    dimension = 384

    def _get_text_embedding(self, text: str) -> list[float]:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in text.lower().split():
            vector[int(hashlib.blake2b(word.encode(), digest_size=4).hexdigest(), 16) % self.dimension] += 1.0
        return (vector / (np.linalg.norm(vector) or 1.0)).tolist()

    _get_query_embedding = _get_text_embedding


@functools.cache
def _english_by_rank() -> tuple[list[str], list[float]]:
    from wordfreq import top_n_list

    words = [w for w in top_n_list("en", 1_000_000, wordlist="large") if re.fullmatch(r"[a-z]+", w)]
    return words, list(itertools.accumulate(1.0 / rank for rank in range(1, len(words) + 1)))


def zipf_words(seed: int):
    """A function drawing k English words (wordfreq's list, alphabetic ones) with P(rank r) ~ 1/r."""
    words, cumulative = _english_by_rank()
    rng = random.Random(seed)
    return lambda k: rng.choices(words, cum_weights=cumulative, k=k)


def realistic_corpus(folder: Path, n: int, seed: int = 7) -> Path:
    """n Markdown summaries of 120-220 words each, titles of 3-7 words, from a Zipfian English vocabulary."""
    draw = zipf_words(seed)
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        title = " ".join(w.title() for w in draw(rng.randint(3, 7) + 20) if len(w) > 3)
        title = " ".join(title.split()[:rng.randint(3, 7)]) + f" {i}"
        sentences = [" ".join(draw(rng.randint(10, 22))).capitalize() + "." for _ in range(rng.randint(8, 12))]
        (folder / f"paper-{i:05d}.md").write_text(
            f"---\ntitle: {title}\nauthors: [Author {i % 97}, Author {i % 89}]\n---\n{' '.join(sentences)}\n")
    return folder


CORPORA = {"realistic": realistic_corpus, "small": synthetic_corpus}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def command_times(env: dict, commands: dict[str, list[str]], runs: int = 3) -> dict[str, list[float]]:
    """Wall seconds of each run of each command, the commands run in turn (A B C A B C …)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True, cwd=REPO)
            times[name].append(time.perf_counter() - start)
    return times


def timed_commands(env: dict, commands: dict[str, list[str]], runs: int = 3) -> dict[str, float]:
    """Median wall seconds of each command, the commands run in turn."""
    return {name: statistics.median(values) for name, values in command_times(env, commands, runs).items()}


def build(size: int, work: Path, vocabulary: str) -> tuple[Path, Path, float]:
    corpus, data = work / f"corpus-{vocabulary}-{size}", work / f"data-{vocabulary}-{size}"
    if (data / "built").exists():
        return corpus, data, float((data / "built").read_text())
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    CORPORA[vocabulary](corpus, size)
    library = Library(load_settings(data_dir=data))
    library.embedder = HashedBagOfWords(embed_batch_size=128)
    start = time.perf_counter()
    library.ingest([corpus], progress=True)
    seconds = time.perf_counter() - start
    (data / "built").write_text(str(seconds))
    return corpus, data, seconds


def bench(size: int, work: Path, vocabulary: str) -> dict:
    corpus, data, build_s = build(size, work, vocabulary)
    env = dict(os.environ, PAPERBOT_DATA_DIR=str(data))
    python = sys.executable
    paperbot = str(Path(python).with_name("paperbot"))
    row: dict = {"papers": size, "build_papers_per_s": size / build_s, "disk_mb": disk_mb(data)}
    row["reingest_s"] = timed_commands(env, {"ingest": [paperbot, "ingest", "-q", str(corpus)]}, runs=1)["ingest"]
    cold = timed_commands(env, {"chromadb": [python, "-c", "import chromadb"],
                                "ask": [paperbot, "ask", "who wrote Reformer?"],
                                "papers": [paperbot, "papers"]})
    row.update({f"cold_{k}_s": v for k, v in cold.items()})

    start = time.perf_counter()
    library = Library(load_settings(data_dir=data))
    library.ask(QUESTIONS[0])  # loads the model and the saved index
    row["first_question_s"] = time.perf_counter() - start
    row["index_loaded_from"] = library.searcher.live.loaded_from
    passes = []
    for _ in range(2):  # the first time a paper is asked about, its sentences are embedded
        samples = []
        for question in QUESTIONS:
            began = time.perf_counter()
            library.ask(question)
            samples.append((time.perf_counter() - began) * 1000)
        passes.append(percentiles(samples))
    (row["first_pass_p50_ms"], row["first_pass_p95_ms"]), (row["warm_p50_ms"], row["warm_p95_ms"]) = passes
    lookups = []
    for _ in range(3):
        for query in LOOKUPS:
            began = time.perf_counter()
            library.lookup(query)
            lookups.append((time.perf_counter() - began) * 1000)
    row["lookup_p50_ms"], row["lookup_p95_ms"] = percentiles(lookups)

    # A paper added by another process, then the first question about it here.
    new = work / f"new-{size}"
    new.mkdir(exist_ok=True)
    (new / "quokka.md").write_text(NEW_PAPER)
    for question in (KEYWORD_QUESTION, MEANING_QUESTION):
        library.ask(question)  # as a running server would have: the other papers these find are warm
    row["rss_before_add_mb"] = rss_mb()
    subprocess.run([paperbot, "ingest", "-q", str(new)], env=env, check=True, capture_output=True, cwd=REPO)
    began = time.perf_counter()
    first = library.ask(KEYWORD_QUESTION)
    row["first_after_add_ms"] = (time.perf_counter() - began) * 1000
    row["rss_after_add_mb"] = rss_mb()
    warm = []
    for _ in range(5):
        began = time.perf_counter()
        library.ask(KEYWORD_QUESTION)
        warm.append((time.perf_counter() - began) * 1000)
    row["warm_same_question_ms"] = statistics.median(warm)
    library.__dict__.pop("sentences", None)  # as the first question about these papers on any server
    began = time.perf_counter()
    library.ask(KEYWORD_QUESTION)
    row["same_question_sentences_uncached_ms"] = (time.perf_counter() - began) * 1000
    # The refresh alone: another paper added by another process, then only the look at the log.
    (new / "quokka2.md").write_text(NEW_PAPER.replace("Quokka", "Wombat").replace("Imogen", "Ottilie"))
    subprocess.run([paperbot, "ingest", "-q", str(new)], env=env, check=True, capture_output=True, cwd=REPO)
    began = time.perf_counter()
    library.searcher.refresh()
    row["refresh_after_add_ms"] = (time.perf_counter() - began) * 1000
    new_id = next(p.id for p in library.papers() if p.title.startswith("Quokka"))
    row["answer_is_about_new_paper"] = bool(first.paper_ids) and first.paper_ids[0] == new_id
    # Its vectors reached this process: its own stored vector finds it. (A question by meaning
    # can't be checked here: among the stand-in vectors the approximate HNSW search rarely
    # reaches the one real vector; tests check it on the shipped corpus.)
    own = library.store._chunks.get(ids=[f"{new_id}#0"], include=["embeddings"])["embeddings"][0]
    row["new_vectors_seen"] = library.store.query([float(x) for x in own], 3)[0].chunk.paper_id == new_id
    # As `paperbot serve` runs: the index follows the log between questions.
    stop = library.follow_changes(every_s=1.0)
    library.ask(KEYWORD_QUESTION.replace("quokka", "numbat"))  # as above: asked once before the add
    (new / "quokka3.md").write_text(NEW_PAPER.replace("Quokka", "Numbat").replace("Imogen", "Perpetua"))
    subprocess.run([paperbot, "ingest", "-q", str(new)], env=env, check=True, capture_output=True, cwd=REPO)
    time.sleep(3.0)  # a question a few seconds after the add
    began = time.perf_counter()
    followed = library.ask(KEYWORD_QUESTION.replace("quokka", "numbat"))
    row["first_after_add_following_ms"] = (time.perf_counter() - began) * 1000
    numbat = [p.id for p in library.papers() if p.title.startswith("Numbat")]
    row["following_answer_is_about_new_paper"] = numbat == followed.paper_ids[:1]
    stop.set()
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Leave the corpus as built, for the next run.
    (new / "quokka.md").unlink()
    (new / "quokka2.md").unlink()
    (new / "quokka3.md").unlink()
    subprocess.run([paperbot, "ingest", "-q", "--prune", str(new)], env=env, check=False, capture_output=True, cwd=REPO)
    return row


def spelling_latency(index, n: int = 40, seed: int = 5) -> tuple[float, float]:
    """p50/p95 ms of correcting one misspelt corpus word (two letters swapped, one dropped)."""
    rng = random.Random(seed)
    words = sorted(w for w in index.vocabulary if w.isalpha() and len(w) >= 7)
    samples = []
    for word in rng.sample(words, min(n, len(words))):
        at = rng.randrange(1, len(word) - 2)
        typo = word[:at] + word[at + 1] + word[at] + word[at + 3:]
        began = time.perf_counter()
        index.correct_spelling(typo)
        samples.append((time.perf_counter() - began) * 1000)
    return percentiles(samples) if samples else (0.0, 0.0)


def questions_only(data: Path) -> dict:
    """For an index too big to rebuild in the time at hand: load it, then question and lookup latency."""
    library = Library(load_settings(data_dir=data))
    start = time.perf_counter()
    library.searcher.refresh()
    row: dict = {"papers": len(library.searcher.index.papers), "load_s": time.perf_counter() - start,
                 "index_loaded_from": library.searcher.live.loaded_from, "disk_mb": disk_mb(data),
                 "vocabulary_words": len(library.searcher.index.vocabulary)}
    passes = []
    for _ in range(2):
        samples = []
        for question in QUESTIONS:
            began = time.perf_counter()
            library.ask(question)
            samples.append((time.perf_counter() - began) * 1000)
        passes.append(percentiles(samples))
    (row["first_pass_p50_ms"], row["first_pass_p95_ms"]), (row["warm_p50_ms"], row["warm_p95_ms"]) = passes
    lookups = []
    for _ in range(3):
        for query in LOOKUPS:
            began = time.perf_counter()
            library.lookup(query)
            lookups.append((time.perf_counter() - began) * 1000)
    row["lookup_p50_ms"], row["lookup_p95_ms"] = percentiles(lookups)
    row["spelling_p50_ms"], row["spelling_p95_ms"] = spelling_latency(library.searcher.index)
    row["rss_mb"], row["peak_rss_mb"] = rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/paperbot-bench-live"))
    parser.add_argument("--vocabulary", choices=sorted(CORPORA), default="realistic",
                        help="where the synthetic summaries' words come from (default: realistic)")
    parser.add_argument("--build-only", action="store_true", help="only build the indexes (timed later)")
    parser.add_argument("--questions-only", type=Path, metavar="DATA_DIR",
                        help="only load this existing index and time questions and lookups")
    args = parser.parse_args()
    def show(row: dict) -> None:
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)

    if args.questions_only:
        show(questions_only(args.questions_only))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        if args.build_only:
            print(json.dumps({"papers": size, "data": str(build(size, args.work, args.vocabulary)[1])}), flush=True)
        else:
            show(bench(size, args.work, args.vocabulary))


if __name__ == "__main__":
    main()
