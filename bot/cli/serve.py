"""`paperbot serve` (run the Slack bot) and `paperbot migrate` (bring its state database up to date)."""

from __future__ import annotations

import click

from paperbot.bot.cli import get_settings


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on in HTTP mode.")
@click.pass_context
def serve(ctx: click.Context, host: str) -> None:
    """Run the Slack bot: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP mode.

    HTTP mode serves /slack/events, /healthz (alive) and /readyz (index and database reachable)
    on PAPERBOT_PORT; run several replicas behind a load balancer with a shared
    PAPERBOT_DATABASE_URL (and a Chroma server) so each event is answered once. The state
    database is migrated on start.
    """
    from paperbot.bot.app import build_app
    from paperbot.bot.digest import start_digest_scheduler
    from paperbot.bot.readiness import replica_readiness
    from paperbot.bot.serve import TokenError, check_tokens, http_server, socket_mode_handler
    from paperbot.bot.state import State
    from paperbot.retrieval.library import Library

    settings = get_settings(ctx)
    try:
        mode = check_tokens(settings)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    library = Library(settings)
    library.searcher.refresh()  # load the index now, not on the first question
    library.follow_changes()  # and take in what other processes add as they add it
    state = State.from_settings(settings)
    app = build_app(settings, library, state)
    start_digest_scheduler(settings, library, state, state.engine, app.client)
    if mode == "socket":
        click.echo("paperbot: Socket Mode")
        socket_mode_handler(app, settings).start()
        return
    server = http_server(app, settings, host, settings.port, replica_readiness(library, state))
    click.echo(f"paperbot: HTTP mode on {host}:{server.server_port} (/slack/events, /healthz, /readyz)")
    server.serve_forever()


@click.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring the state database (PAPERBOT_DATABASE_URL) to the current schema.

    `paperbot serve` does this on start (safely when several replicas start at once); run it
    on its own to upgrade before rolling out new replicas, or to see the schema revision.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from paperbot.bot.migrate import head_revision
    from paperbot.bot.state import State

    settings = get_settings(ctx)
    try:
        state = State.from_settings(settings)
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot migrate the state database: {type(exc).__name__}: {exc}") from None
    where = state.engine.url.render_as_string(hide_password=True)
    click.echo(f"{where}: schema revision {state.revision} (newest: {head_revision()})")


def register(cli: click.Group) -> None:
    cli.add_command(serve)
    cli.add_command(migrate)
