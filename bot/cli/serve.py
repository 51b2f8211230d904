"""`paperbot serve` (run the Slack bot) and `paperbot migrate` (bring its state database up to date)."""

from __future__ import annotations

import click

from . import get_settings


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on in HTTP mode.")
@click.option("--debug", is_flag=True, help="Show the traceback when start-up fails (as PAPERBOT_LOG_LEVEL=DEBUG does).")
@click.pass_context
def serve(ctx: click.Context, host: str, debug: bool) -> None:
    """Run the Slack bot: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP mode.

    HTTP mode serves /slack/events, /healthz (alive) and /readyz (index and database reachable)
    on PAPERBOT_PORT; run several replicas behind a load balancer with a shared
    PAPERBOT_DATABASE_URL (and a Chroma server) so each event is answered once. The state
    database is migrated on start. A start-up failure (Slack unreachable or refusing the token,
    the index, the database or the data directory unusable) is one line naming what to check.
    """
    import traceback

    from ..web.startup import explain

    settings = get_settings(ctx)
    try:
        run = _start(settings, host, debug=debug or settings.log_level == "DEBUG")
    except Exception as exc:
        if debug or settings.log_level == "DEBUG":
            click.echo(traceback.format_exc(), err=True)
        raise click.ClickException(explain(exc, settings)) from None
    run()


def _start(settings, host: str, *, debug: bool):
    """Everything serving needs, checked in order of cost; returns what serves until the process ends."""
    import threading

    from ..app import build_app
    from ..weekly_digest import start_digest_scheduler
    from ..web.readiness import replica_readiness
    from ..web.server import check_tokens, http_server, socket_mode_handler
    from ..slack_client import build_web_client
    from ..web.startup import check_slack, quiet_slack_logs
    from ..state.store import State
    from ...retrieval.library import Library

    mode = check_tokens(settings)
    client = build_web_client(settings)
    check_slack(client, quiet=not debug)  # a refused token or an unreachable Slack, before loading anything
    state = State.from_settings(settings)
    library = Library(settings, writer="paperbot serve (/paper add)")
    library.searcher.refresh()  # load the index now, not on the first question
    app = build_app(settings, library, state, check_token=False)  # checked above
    library.follow_changes()  # and take in what other processes add as they add it
    start_digest_scheduler(settings, library, state, state.engine, app.client)
    if mode == "socket":
        handler = socket_mode_handler(app, settings)
        with quiet_slack_logs(not debug):
            handler.connect()  # a refused app token raises here; once connected, the client reconnects itself
        click.echo("paperbot: Socket Mode")
        return threading.Event().wait  # the connection runs in the client's threads: wait for the process to end
    server = http_server(app, settings, host, settings.port, replica_readiness(library, state))
    click.echo(f"paperbot: HTTP mode on {host}:{server.server_port} (/slack/events, /healthz, /readyz)")
    return server.serve_forever


@click.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring the state database (PAPERBOT_DATABASE_URL) to the current schema.

    `paperbot serve` does this on start (safely when several replicas start at once); run it
    on its own to upgrade before rolling out new replicas, or to see the schema revision.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from ..state.migrate import head_revision
    from ..state.store import State

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
