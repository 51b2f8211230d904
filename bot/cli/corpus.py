"""`paperbot ingest`: build the index."""

from __future__ import annotations

from pathlib import Path

import click

from . import get_settings


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Remove papers whose files under PATHS are gone.")
@click.option("--reindex", is_flag=True, help="Drop the index and rebuild it (e.g. after changing the embedder).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--no-wait", is_flag=True,
              help="If another writer holds the index, exit at once (non-zero) instead of waiting for it.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], prune: bool, reindex: bool, quiet: bool,
           no_wait: bool) -> None:
    """Index papers from PATHS (files or folders; default: the shipped corpus).

    Incremental: unchanged files are not even read again, unchanged papers are not re-embedded,
    changed ones are replaced. Supported: .txt/.md (optional YAML front matter: title, authors,
    presenter, url, added) and .pdf. A file that cannot be ingested (unparsable, too large, a
    title already indexed) is reported with its file and line; the others are still ingested.

    One writer at a time on an embedded index: while another holds it (an ingest, a paper being
    added from Slack), this one says whom it waits for and waits, then skips what that one indexed.
    """
    from ...retrieval.errors import IndexBusy
    from ...retrieval.library import Library

    library = Library(get_settings(ctx), for_writing=True, writer="paperbot ingest")
    try:
        with library.writing(timeout_s=0 if no_wait else None, on_wait=lambda line: click.echo(line, err=True)):
            if reindex:
                library.drop_index()
            report = library.ingest(list(paths), prune=prune, progress=not quiet)
    except IndexBusy as exc:
        raise click.ClickException(f"the index is being written: {exc}; run again when it is done, "
                                   "or without --no-wait to wait for it") from None
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Indexed {report.papers_indexed} paper(s) ({len(report.added)} new, {len(report.updated)} changed), "
        f"{report.unchanged} unchanged, {len(report.removed)} removed; "
        f"{report.chunks_embedded} chunks embedded in {report.seconds:.1f}s."
    )
    if report.failed:
        for problem in report.failed:
            click.echo(f"error: {problem}", err=True)
        raise click.ClickException(f"{len(report.failed)} problem(s) above: what they name was not ingested; "
                                   "everything else was.")


def register(cli: click.Group) -> None:
    cli.add_command(ingest)
