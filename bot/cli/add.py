"""`paperbot add`: a paper from arXiv, by id or link."""

from __future__ import annotations

import click

from . import get_settings

NOT_AN_ID = 2  # exit status when the argument is no arXiv id or link (a usage problem)


@click.command()
@click.argument("reference")
@click.option("--presenter", help="Who presented it to the group.")
@click.pass_context
def add(ctx: click.Context, reference: str, presenter: str | None) -> None:
    """Add a paper from arXiv: REFERENCE is an id (2401.12345, hep-th/9901001, with or without a
    version) or an arxiv.org link (abs or pdf).

    Title, authors, abstract (the paper's summary until someone writes one), link and published
    date come from the arXiv API (PAPERBOT_ARXIV__API_URL). A paper already in the library (the same
    arXiv id, any version, or the same title) is reported, not added again. An unknown or withdrawn
    paper, or an API that is down or answers nonsense, is one line and a non-zero exit; nothing is written.
    """
    from ...retrieval.library import Library
    from ...retrieval.types import parse_arxiv_id

    arxiv_id = parse_arxiv_id(reference)
    if arxiv_id is None:
        click.echo(f"Error: “{reference}” is not an arXiv id or link (e.g. 2401.12345 or "
                   "https://arxiv.org/abs/2401.12345).", err=True)
        ctx.exit(NOT_AN_ID)
    settings = get_settings(ctx)
    library = Library(settings, for_writing=True, writer="paperbot add")
    result = library.add_from_arxiv(Library.arxiv_client(settings), arxiv_id, presenter=presenter)
    paper = result.paper
    if not result.added:
        click.echo(f"Already in the library: “{paper.title}” ({paper.url or paper.source}); nothing added.")
        return
    published = f", published {paper.date:%Y-%m-%d}" if paper.date else ""
    click.echo(f"Added “{paper.title}” by {_authors(paper.authors)} (arXiv {arxiv_id.id}{published}).")


def _authors(authors: tuple[str, ...]) -> str:
    if not authors:
        return "authors not listed"
    return ", ".join(authors[:3]) + (" et al." if len(authors) > 3 else "")


def register(cli: click.Group) -> None:
    cli.add_command(add)
