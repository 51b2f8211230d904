"""`paperbot papers` and `paperbot find`: what the index holds, and the `/paper` lookup in a terminal."""

from __future__ import annotations

import json
from datetime import datetime

import click

from . import get_settings
from .table import columns
from ...retrieval.types import Paper

NONE = "—"
NOTHING_TO_LOOK_UP = 2  # exit status of an empty query (a usage problem); no match is 1


def _library(ctx: click.Context):
    from ...retrieval.library import Library

    return Library(get_settings(ctx))


def shown_date(paper: Paper) -> datetime | None:
    """The date a paper is listed under: when it was added here, else its source's own date."""
    return paper.added or paper.date


def _date_cell(paper: Paper) -> str:
    if paper.added:
        return f"added {paper.added:%Y-%m-%d}"
    return f"{paper.date:%Y-%m-%d}" if paper.date else NONE


def newest_first(papers: list[Paper]) -> list[Paper]:
    """By date, newest first (undated last), then by title."""
    undated: list[Paper] = []
    dated: list[tuple[datetime, Paper]] = []
    for paper in papers:
        when = shown_date(paper)
        if when:
            dated.append((when, paper))
        else:
            undated.append(paper)
    dated.sort(key=lambda pair: pair[1].title.casefold())
    dated.sort(key=lambda pair: pair[0], reverse=True)  # stable: titles stay in order within a date
    return [paper for _, paper in dated] + sorted(undated, key=lambda p: p.title.casefold())


def _record(paper: Paper) -> dict:
    return {"id": paper.id, "title": paper.title, "authors": list(paper.authors), "presenter": paper.presenter,
            "source": paper.source, "added": paper.added.isoformat() if paper.added else None}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="A JSON array: id, title, authors, presenter, source, added.")
@click.pass_context
def papers(ctx: click.Context, as_json: bool) -> None:
    """List the papers in the index: title, presenter and date, newest first.

    The date is when the paper was added to this index or, for the library as first ingested,
    when its source says it was presented or published (— when it says nothing).
    """
    found = _library(ctx).catalog()
    if as_json:
        click.echo(json.dumps([_record(p) for p in found], ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("No papers yet: run `paperbot ingest`.")
        return
    ordered = newest_first(found)
    rows = [(p.title, p.presenter or NONE, _date_cell(p)) for p in ordered]
    for line in columns(("TITLE", "PRESENTER", "DATE"), rows):
        click.echo(line)
    click.echo(f"{len(found)} paper{'s' if len(found) != 1 else ''}.")


@click.command()
@click.argument("query", nargs=-1)
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 50), help="At most this many papers.")
@click.option("--json", "as_json", is_flag=True,
              help="A JSON array, best first: id, title, authors, presenter, source, added, date, matched_on, score.")
@click.pass_context
def find(ctx: click.Context, query: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Find papers by (typo'd) title, author, presenter or topic: what `/paper QUERY` does in Slack.

    Exits 1 when nothing matches, 2 when the query has nothing to look up (empty, or only markup).
    """
    from ...retrieval.library import has_lookup_words

    text = " ".join(query)
    if not has_lookup_words(text):
        click.echo("Error: nothing to look up: give a title, author, presenter or topic.", err=True)
        ctx.exit(NOTHING_TO_LOOK_UP)
    hits = _library(ctx).lookup(text, limit=limit)
    if as_json:
        click.echo(json.dumps([
            {**_record(h.paper), "date": h.paper.date.isoformat() if h.paper.date else None,
             "matched_on": h.matched_on, "score": round(h.score, 4)}
            for h in hits
        ], ensure_ascii=False, indent=2))
    elif hits:
        rows = [(h.paper.title, h.paper.presenter or NONE, _date_cell(h.paper), h.matched_on) for h in hits]
        for line in columns(("TITLE", "PRESENTER", "DATE", "MATCHED ON"), rows):
            click.echo(line)
    else:
        click.echo(f"No paper matches “{' '.join(text.split())}”.")
    if not hits:
        ctx.exit(1)


def register(cli: click.Group) -> None:
    cli.add_command(papers)
    cli.add_command(find)
