"""Benchmark: what a question costs as the corpus grows (one JSON object per size; a script, not a test).

    python scripts/bench_scale.py --sizes 2000 20000 100000 --json [--work DIR] [--build-limit-s 3600]
    python scripts/bench_scale.py --sizes 20000 --profile      # also cProfile each timed part

The synthetic corpus grows its vocabularies the way a real one does: titles and summaries draw
their words half from the shipped corpus (weighted by how often it uses them) and half from
wordfreq's English list with Zipf's law, so new words keep coming as papers are added; titles
often start with a made-up short name ("Quillformer: …") and carry no numbers; people are
real-looking names (the shipped corpus's first names and surnames, recombined and blended into
new surnames) drawn with Zipf's law from a population that grows with the corpus, so prolific
authors recur; presenters come from a reading group that grows slowly.

The index is built with the stand-in embedder (`bench_live.HashedBagOfWords`: embedding 100,000
papers with MiniLM would take hours on 2 cores; a question's cost depends on the index's size,
not on what its stored vectors mean), in batches of 1,000 papers, each size on a copy of the
largest smaller one built before (`--work` keeps them between runs). ``--build-limit-s`` stops a
build after the batch that passes it: that size is then measured at the papers reached.
Questions, lookups and added papers use the real model. Per size:

- ``warm_p50_ms`` / ``warm_p95_ms``: the dev questions, two rounds after a first (which embeds
  each asked-about paper's sentences);
- ``thread_p95_ms``: follow-ups of the labelled conversations with their thread's history, each
  preceded by the check a Slack thread runs on an unmentioned message (`is_question_for_bot`);
- ``lookup_p95_ms``: `/paper` queries (misspelt titles and names of the shipped and the synthetic
  corpus, topics), after a first round;
- ``after_add_ms``: the first answer about a paper another process (`paperbot ingest`) added,
  asked a few seconds later while the index follows the log (as `paperbot serve` runs), median of
  three (it includes embedding the sentences of any paper the answer reads for the first time);
  ``after_add_at_once_ms`` the same asked the instant the command returns;
- ``cold_ask_ratio``: a new process's `paperbot ask` ÷ `python -c "import chromadb"`, run in turn
  (median of the pairs' ratios);
- ``rss_mb`` after all of it, ``disk_mb`` of the data directory (Chroma and the saved index).
"""

from __future__ import annotations

import argparse
import cProfile
import collections
import contextlib
import functools
import itertools
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from paperbot.config import load_settings
from paperbot.config.settings import SHIPPED_CORPUS
from paperbot.retrieval.corpus.loaders import corpus_files, load_file
from paperbot.retrieval.library import Library
from paperbot.retrieval.types import Turn

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from bench_live import (  # noqa: E402  (one home for each: the stand-in embedder, the timings, the added paper)
    KEYWORD_QUESTION, LOOKUPS, NEW_PAPER, QUESTIONS, HashedBagOfWords, command_times, disk_mb, percentiles,
    rss_mb, zipf_words)

LABELS = REPO / "retrieval" / "training" / "labels" / "train"
BATCH = 1000  # papers per corpus folder, ingested at once
CONVERSATIONS = 24  # labelled conversations whose follow-ups are timed
COLD_PAIRS = 5


# -- the synthetic corpus ---------------------------------------------------------------------

@functools.cache
def shipped_papers() -> list:
    return [p for f in corpus_files([SHIPPED_CORPUS]) for p in load_file(f)]


class CorpusWords:
    """Where the synthetic papers' words and names come from."""

    def __init__(self, seed: int = 11):
        papers = shipped_papers()
        counts = collections.Counter(w for p in papers for w in re.findall(r"[a-z]{3,}", f"{p.title} {p.text}".lower()))
        self.shipped = list(counts)
        self.shipped_cumulative = list(itertools.accumulate(counts.values()))
        people = {name for p in papers for name in (*p.authors, *([p.presenter] if p.presenter else []))}
        parts = [name.split() for name in people if len(name.split()) >= 2]
        self.first_names = sorted({p[0] for p in parts if p[0].isalpha() and len(p[0]) > 2})
        self.surnames = sorted({p[-1] for p in parts if p[-1].isalpha() and len(p[-1]) > 2})
        self.everyday = zipf_words(seed)
        self.rng = random.Random(seed)

    def draw(self, k: int) -> list[str]:
        """k words, half from the shipped corpus's own (as often as it uses them), half everyday ones."""
        shipped = self.rng.choices(self.shipped, cum_weights=self.shipped_cumulative, k=k)
        everyday = self.everyday(k)
        return [shipped[i] if self.rng.random() < 0.5 else everyday[i] for i in range(k)]

    def surname(self) -> str:
        """A shipped surname, or two blended into a new one ("Lechowski" + "Bauer" -> "Lechauer")."""
        a, b = self.rng.sample(self.surnames, 2)
        if self.rng.random() < 0.3:
            return a
        return (a[:max(2, len(a) // 2)] + b[len(b) // 2:]).capitalize()

    def person(self) -> str:
        return f"{self.rng.choice(self.first_names)} {self.surname()}"

    def short_name(self) -> str:
        a, b = self.draw(2)
        return (a[:max(3, len(a) // 2 + 1)] + b[len(b) // 2:]).capitalize()


def write_batch(folder: Path, words: CorpusWords, population: list[str], group: list[str], start: int) -> None:
    """Papers start .. start + BATCH - 1 as Markdown files with front matter."""
    rng = words.rng
    folder.mkdir(parents=True, exist_ok=True)
    # A few people write many papers: P(rank r) ~ r^-0.8.
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) ** 0.8 for rank in range(len(population))))
    for i in range(start, start + BATCH):
        title = " ".join(w.capitalize() for w in words.draw(rng.randint(4, 9)))
        if rng.random() < 0.4:
            title = f"{words.short_name()}: {title}"
        authors = list(dict.fromkeys(rng.choices(population, cum_weights=cumulative, k=rng.randint(2, 6))))
        sentences = [" ".join(words.draw(rng.randint(10, 22))).capitalize() + "." for _ in range(rng.randint(8, 12))]
        (folder / f"paper-{i:06d}.md").write_text(
            f"---\ntitle: \"{title}\"\nauthors: [{', '.join(authors)}]\npresenter: {rng.choice(group)}\n---\n"
            f"{' '.join(sentences)}\n")


def corpus_batches(corpus: Path, papers: int, seed: int = 11) -> list[Path]:
    """The batch folders holding the first ``papers`` synthetic papers (written once; every size reads the same)."""
    words = CorpusWords(seed)
    people = max(200, 2 * papers)  # the population grows with the corpus
    population = list(dict.fromkeys(words.person() for _ in range(people)))
    group = population[:20] + [words.person() for _ in range(papers // 500)]
    folders = []
    for start in range(0, papers, BATCH):
        folder = corpus / f"batch-{start // BATCH:04d}"
        if not (folder / "complete").exists():
            shutil.rmtree(folder, ignore_errors=True)
            write_batch(folder, CorpusWords(seed + start), population, group, start)
            (folder / "complete").write_text("")
        folders.append(folder)
    return folders


# -- building ---------------------------------------------------------------------------------

def build(size: int, work: Path, limit_s: float) -> tuple[Path, dict]:
    """The data directory of ``size`` papers: a copy of the largest smaller one built, grown batch by batch."""
    data = work / f"data-{size}"
    done, progress = data / "built.json", data / "progress.json"
    if done.exists():
        return data, json.loads(done.read_text())
    if progress.exists():  # a build that was stopped: it goes on from the last batch it finished
        record = json.loads(progress.read_text())
    else:
        shutil.rmtree(data, ignore_errors=True)
        built = [(json.loads(d.joinpath("built.json").read_text()), d) for d in work.glob("data-*")
                 if d.joinpath("built.json").exists()]
        smaller = sorted((r["batches"], str(d)) for r, d in built if r["batches"] * BATCH < size)
        record = {"batches": 0, "build_s": 0.0, "stopped": None}
        if smaller:
            source = Path(smaller[-1][1])
            record = dict(json.loads((source / "built.json").read_text()), stopped=None)
            shutil.copytree(source, data)
            (data / "built.json").unlink()  # not built until its own batches are
    batches = corpus_batches(work / "corpus", size)
    library = Library(load_settings(data_dir=data))
    library.embedder = HashedBagOfWords(embed_batch_size=128)
    started = time.perf_counter()
    for folder in batches[record["batches"]:]:
        library.ingest([folder])
        record["batches"] += 1
        progress.write_text(json.dumps(dict(record, build_s=record["build_s"] + time.perf_counter() - started)))
        print(json.dumps({"building": size, "papers": record["batches"] * BATCH,
                          "s": round(time.perf_counter() - started)}), file=sys.stderr, flush=True)
        if time.perf_counter() - started > limit_s and record["batches"] < len(batches):
            record["stopped"] = f"build stopped after {limit_s:.0f} s"
            break
    record["build_s"] += time.perf_counter() - started
    done.write_text(json.dumps(record))
    return data, record


# -- timing -----------------------------------------------------------------------------------

@contextlib.contextmanager
def profiled(path: Path | None):
    if path is None:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(path)


def timed(action, *args) -> float:
    began = time.perf_counter()
    action(*args)
    return (time.perf_counter() - began) * 1000


def conversations(n: int = CONVERSATIONS) -> list[list[str]]:
    rows = [json.loads(line) for f in sorted(LABELS.glob("*.jsonl")) for line in f.read_text().splitlines()]
    return [[turn["question"] for turn in row["turns"]] for row in rows if row["type"] == "conversation"][:n]


def ask_thread(library: Library, questions: list[str]) -> list[float]:
    """A Slack thread: its opening question, then each follow-up checked and answered with the history."""
    first = library.ask(questions[0])
    history = [Turn(questions[0], first.answer, tuple(first.paper_ids))]
    samples = []
    for question in questions[1:]:
        began = time.perf_counter()
        if library.is_question_for_bot(question):
            answer = library.ask(question, history)
            history.append(Turn(question, answer.answer, tuple(answer.paper_ids)))
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def synthetic_lookups(library: Library, seed: int = 3) -> list[str]:
    """A misspelt synthetic title's first words, a synthetic author's surname and full name."""
    rng = random.Random(seed)
    papers = list(library.searcher.index.papers.values())
    chosen = [papers[rng.randrange(len(papers))] for _ in range(3)]

    def misspell(word: str) -> str:
        at = rng.randrange(1, len(word) - 1) if len(word) > 4 else 0
        return word[:at] + word[at + 1:] if at else word
    return [" ".join(misspell(w) for w in chosen[0].title.split()[:3]),
            chosen[1].authors[0].split()[-1], misspell(chosen[2].authors[-1])]


def after_add(library: Library, data: Path, work: Path, env: dict, paperbot: str) -> dict:
    """The first answers about papers another process adds while this one follows the log: three
    asked a few seconds after the add (median), one the instant the command returns."""
    new = work / f"new-{data.name}"
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir()
    samples: dict[str, list[float]] = {"after_add_ms": [], "after_add_at_once_ms": []}
    found: list[bool] = []
    stop = library.follow_changes()
    try:
        for animal, name, wait_s in (("Numbat", "after_add_ms", 3.0), ("Bilby", "after_add_ms", 3.0),
                                     ("Dunnart", "after_add_ms", 3.0), ("Quoll", "after_add_at_once_ms", 0.0)):
            question = KEYWORD_QUESTION.replace("quokka", animal.lower())
            library.ask(question)  # asked once before, as on a running server
            (new / f"{animal}.md").write_text(NEW_PAPER.replace("Quokka", animal).replace("Imogen", "Perpetua"))
            subprocess.run([paperbot, "ingest", "-q", str(new)], env=env, check=True, capture_output=True, cwd=REPO)
            time.sleep(wait_s)
            began = time.perf_counter()
            answer = library.ask(question)
            samples[name].append((time.perf_counter() - began) * 1000)
            added = [p.id for p in library.papers() if p.title.startswith(animal)]
            found.append(bool(added) and added == answer.paper_ids[:1])
    finally:
        stop.set()
        for added in new.iterdir():
            added.unlink()
        subprocess.run([paperbot, "ingest", "-q", "--prune", str(new)], env=env, check=False, capture_output=True,
                       cwd=REPO)
    return {"after_add_ms": statistics.median(samples["after_add_ms"]), "after_add_max_ms": max(samples["after_add_ms"]),
            "after_add_at_once_ms": samples["after_add_at_once_ms"][0], "after_add_found": all(found)}


def cold_ask_ratio(env: dict, paperbot: str) -> dict:
    times = command_times(env, {"chromadb": [sys.executable, "-c", "import chromadb"],
                                "ask": [paperbot, "ask", "who wrote Reformer?"]}, runs=COLD_PAIRS)
    ratios = [a / c for a, c in zip(times["ask"], times["chromadb"])]
    return {"cold_ask_ratio": statistics.median(ratios), "cold_ask_s": statistics.median(times["ask"]),
            "import_chromadb_s": statistics.median(times["chromadb"])}


def bench(size: int, work: Path, limit_s: float, profile: bool) -> dict:
    data, record = build(size, work, limit_s)
    env = dict(os.environ, PAPERBOT_DATA_DIR=str(data))
    paperbot = str(Path(sys.executable).with_name("paperbot"))
    stats = (lambda part: work / f"profile-{size}-{part}.pstats") if profile else (lambda part: None)
    subprocess.run([paperbot, "ask", "who wrote Reformer?"], env=env, check=True, capture_output=True, cwd=REPO)
    row: dict = {"papers": None, "size": size, "load_average": os.getloadavg()[0]}
    row.update(cold_ask_ratio(env, paperbot))
    library = Library(load_settings(data_dir=data))
    began = time.perf_counter()
    library.ask(QUESTIONS[0])  # the model, the saved index
    row["first_question_s"] = time.perf_counter() - began
    index = library.searcher.index
    row["papers"] = len(index.papers)
    row["vocabulary_words"] = len(index.vocabulary)
    row["people"] = len({name for p in index.papers.values() for name in p.authors})
    for question in QUESTIONS:  # the first time a paper is asked about, its sentences are embedded
        library.ask(question)
    with profiled(stats("warm")):
        warm = [timed(library.ask, q) for _ in range(2) for q in QUESTIONS]
    row["warm_p50_ms"], row["warm_p95_ms"] = percentiles(warm)
    threads = conversations()
    for questions in threads:
        ask_thread(library, questions)
    with profiled(stats("thread")):
        follow_ups = [ms for questions in threads for ms in ask_thread(library, questions)]
    row["thread_p50_ms"], row["thread_p95_ms"] = percentiles(follow_ups)
    queries = LOOKUPS + synthetic_lookups(library)
    for query in queries:
        library.lookup(query)
    with profiled(stats("lookup")):
        lookups = [timed(library.lookup, q) for _ in range(3) for q in queries]
    row["lookup_p50_ms"], row["lookup_p95_ms"] = percentiles(lookups)
    with profiled(stats("after-add")):
        row.update(after_add(library, data, work, env, paperbot))
    row["rss_mb"] = rss_mb()
    row["disk_mb"] = disk_mb(data)
    row["build_s"], row["build_stopped"] = record["build_s"], record["stopped"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20_000])
    parser.add_argument("--json", action="store_true", help="one JSON object per size (the only output form)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/paperbot-bench-scale"))
    parser.add_argument("--build-limit-s", type=float, default=3600.0,
                        help="stop building a size after the batch that passes this many seconds")
    parser.add_argument("--build-only", action="store_true", help="build the data directories, time nothing")
    parser.add_argument("--profile", action="store_true", help="write cProfile stats of each timed part to --work")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    for size in sorted(args.sizes):
        if args.build_only:
            data, record = build(size, args.work, args.build_limit_s)
            print(json.dumps({"size": size, "data": str(data), **record}), flush=True)
            continue
        row = bench(size, args.work, args.build_limit_s, args.profile)
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)


if __name__ == "__main__":
    main()
