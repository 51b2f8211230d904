"""`paperbot ask` and `paperbot eval`: questions from the terminal, and the quality figures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import get_settings


def _library(ctx: click.Context):
    from ...retrieval.library import Library

    return Library(get_settings(ctx))


def _print_answer(answer) -> None:
    click.echo(answer.answer)
    if answer.note:
        click.echo(f"\n({answer.note})")
    if answer.citations:
        click.echo("\nSources:")
        for c in answer.citations:
            click.echo(f"  [{c.n}] {c.title} ({c.source})\n      “{c.snippet}”")


def _parse_line(line: str) -> tuple[str | None, str]:
    """(thread id or None, question) of one stdin line: plain text, or {"thread": ID, "question": Q}."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            row = json.loads(stripped)
        except json.JSONDecodeError:
            return None, stripped
        if isinstance(row, dict) and isinstance(row.get("question"), str):
            thread = row.get("thread")
            return (None if thread is None else str(thread)), row["question"]
    return None, stripped


def _answer_lines(library, lines) -> None:
    """One JSON answer per input line, in input order; lines sharing a thread are one conversation."""
    from ...retrieval.errors import QuestionError
    from ...retrieval.types import Turn

    threads: dict[str, list[Turn]] = {}
    for line in lines:
        if not line.strip():
            continue
        thread, question = _parse_line(line)
        history = threads.setdefault(thread, []) if thread is not None else []
        try:
            answer = library.ask(question, list(history))
        except QuestionError as exc:  # one bad line must not lose the others
            click.echo(json.dumps({"question": question[:200], "error": str(exc)}, ensure_ascii=False))
            continue
        if thread is not None:
            history.append(Turn(question, answer.answer, tuple(answer.paper_ids)))
        out = answer.to_dict()
        if thread is not None:
            out["thread"] = thread
        click.echo(json.dumps(out, ensure_ascii=False))


@click.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON (see README: answer contract).")
@click.pass_context
def ask(ctx: click.Context, question: str | None, as_json: bool) -> None:
    """Answer QUESTION from the papers, quoting the summaries it comes from.

    With no QUESTION, reads questions from stdin, one per line, and writes one JSON object per
    line. A line may also be {"thread": ID, "question": Q}: lines sharing a thread id are one
    conversation (follow-ups see the earlier answers), as in a Slack thread.
    """
    library = _library(ctx)
    if not library.papers():
        raise click.ClickException("the index is empty: run `paperbot ingest` first")
    if question is not None:
        answer = library.ask(question)
        if as_json:
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            _print_answer(answer)
        return
    _answer_lines(library, sys.stdin)


def _print_fit(models) -> None:
    report = models.report
    click.echo(f"fitted on {report['questions']} questions and {report['conversations']} conversations "
               f"(k-fold figures on the training split only):")
    reader = report["reader"]
    click.echo(f"  {'reader':<13} {sum(reader['examples'].values()):>4} sentences of {reader['questions']} questions  "
               f"k-fold: the top sentence states the answer {reader['kfold_top_sentence_right']:.3f}")
    for name in ("route", "catalog_field", "off_corpus", "near_miss", "topic_member", "followup"):
        r = report[name]
        if "kfold_accuracy" in r:
            per_route = ", ".join(f"{k} {v:.2f}" for k, v in r["kfold_recall_per_class"].items())
            click.echo(f"  {name:<13} {sum(r['examples'].values()):>4} examples  k-fold accuracy {r['kfold_accuracy']:.3f} "
                       f"(recall per class: {per_route})")
        else:
            click.echo(f"  {name:<13} {sum(r['examples'].values()):>4} examples  threshold {r['threshold']:.2f}  "
                       f"k-fold recall {r['kfold_recall']:.3f}, false positives {r['kfold_false_positive_rate']:.3f}")


@click.command(name="eval")
@click.argument("questions", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--fit", is_flag=True, help="Fit the decisions on the training split first and save them.")
@click.option("--train", "train", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="With --fit: labelled .jsonl files or directories to fit on instead of the shipped training "
                   "split (your team's own questions; never the set you report as held-out).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="With --fit: where to save the fitted decisions (default: the data dir's models/).")
@click.option("--catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="catalog.json the gold ids refer to (default: the one shipped with the labelled sets).")
@click.option("--failures", is_flag=True, help="List every question answered wrongly.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
def eval_command(ctx: click.Context, questions: tuple[Path, ...], fit: bool, train: tuple[Path, ...],
                 output: Path | None, catalog: Path | None, failures: bool, as_json: bool) -> None:
    """Score the answers on labelled QUESTIONS (files or directories of .jsonl).

    With no QUESTIONS, scores the shipped held-out test split. --fit first fits the route,
    abstention, topic-list and follow-up decisions for the configured embedder on the shipped
    training split (never on the test split) and prints their k-fold figures.
    """
    from ...retrieval.questions.decisions import local_path
    from ...retrieval.index.embeddings import embedder_id
    from ...retrieval.training.evaluation import evaluate
    from ...retrieval.training.fitting import fit_decisions
    from ...retrieval.training.labelled import CATALOG, TEST_DIR, TRAIN_DIR, map_catalog, read_labelled

    library = _library(ctx)
    catalog = catalog or CATALOG
    if not library.papers():
        raise click.ClickException("the index is empty: run `paperbot ingest` first")
    if fit:
        singles, conversations = read_labelled(list(train) or [TRAIN_DIR], map_catalog(catalog, library.papers()))
        models = fit_decisions(library, singles, conversations, embedder_id(library.settings),
                               progress=lambda m: click.echo(m, err=True))
        path = models.save(output or local_path(library.settings.data_dir, models.embedder))
        library.__dict__["decisions"] = models
        click.echo(f"saved the fitted decisions to {path}", err=True)
        if not as_json:
            _print_fit(models)
    report = evaluate(library, list(questions) or [TEST_DIR], catalog)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    click.echo(f"\n{report.questions} questions")
    for name, value in report.figures.items():
        click.echo(f"  {name:<34} {value:.3f}   (n={report.counts[name]})")
    click.echo("retrieval, single questions (right paper first / in top 3):")
    for name, figures in report.retrieval.items():
        click.echo(f"  {name:<34} {figures['hit@1']:.3f} / {figures['hit@3']:.3f}")
    click.echo(f"latency p50 / p95: {report.latency_p50_ms:.0f} ms / {report.latency_p95_ms:.0f} ms")
    if failures:
        for failure in report.failures:
            click.echo(f"  miss: {failure}")


def register(cli: click.Group) -> None:
    cli.add_command(ask)
    cli.add_command(eval_command)
