"""`paperbot ask` and `paperbot eval`: questions from the terminal, and the quality figures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.cli import get_settings


def _library(ctx: click.Context):
    from retrieval.library import Library

    return Library(get_settings(ctx))


def _print_answer(answer) -> None:
    click.echo(answer.answer)
    if answer.note:
        click.echo(f"\n({answer.note})")
    if answer.citations:
        click.echo("\nSources:")
        for c in answer.citations:
            click.echo(f"  [{c.n}] {c.title} ({c.source})\n      “{c.snippet}”")
    if answer.abstained and answer.suggestions:
        click.echo("\nNearest papers: " + "; ".join(s.title for s in answer.suggestions))


@click.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON (see README: answer contract).")
@click.pass_context
def ask(ctx: click.Context, question: str | None, as_json: bool) -> None:
    """Answer QUESTION from the papers, quoting the summaries it comes from.

    With no QUESTION, reads questions one per line from stdin and writes one JSON object per line.
    """
    from retrieval.answering import QuestionError
    from retrieval.store import StoreError

    library = _library(ctx)
    try:
        if question is not None:
            answer = library.ask(question)
            if as_json:
                click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
            else:
                _print_answer(answer)
            return
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                click.echo(json.dumps(library.ask(line).to_dict(), ensure_ascii=False))
            except QuestionError as exc:  # one bad line must not lose the others
                click.echo(json.dumps({"question": line.strip()[:200], "error": str(exc)}, ensure_ascii=False))
    except QuestionError as exc:
        raise click.ClickException(str(exc)) from None
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


@click.command(name="eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="catalog.json the gold ids refer to (default: next to QUESTIONS).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
def eval_command(ctx: click.Context, questions: Path, catalog: Path | None, as_json: bool) -> None:
    """Score answers on a question file (JSON lines, the format of the dev set)."""
    from retrieval.evaluation import evaluate

    catalog = catalog or questions.with_name("catalog.json")
    if not catalog.exists():
        raise click.ClickException(f"no catalog: {catalog} (pass --catalog)")
    report = evaluate(_library(ctx), questions, catalog)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    click.echo(f"questions            {report.questions}")
    for label, value in [("hit@1", report.hit_at_1), ("hit@3", report.hit_at_3),
                         ("multi-paper recall", report.multi_recall), ("metadata accuracy", report.metadata_accuracy),
                         ("abstention (off-corpus)", report.abstention_off_corpus),
                         ("abstention (near-miss)", report.abstention_near_miss),
                         ("false abstention", report.false_abstention), ("snippet validity", report.snippet_validity)]:
        click.echo(f"{label:<24} {value:.3f}")
    click.echo(f"latency p50 / p95      {report.latency_p50_ms:.0f} ms / {report.latency_p95_ms:.0f} ms")
    for failure in report.failures:
        click.echo(f"  miss: {failure}")


def register(cli: click.Group) -> None:
    cli.add_command(ask)
    cli.add_command(eval_command)
