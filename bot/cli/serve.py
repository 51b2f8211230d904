"""`paperbot serve`: run the Slack bot."""

from __future__ import annotations

import click

from paperbot.bot.cli import get_settings


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on in HTTP mode.")
@click.pass_context
def serve(ctx: click.Context, host: str) -> None:
    """Run the Slack bot: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP mode.

    HTTP mode serves /slack/events and /healthz on PAPERBOT_PORT; run several replicas behind a
    load balancer with a shared PAPERBOT_DATABASE_URL (and a Chroma server) so each event is
    answered once.
    """
    from paperbot.bot.app import build_app
    from paperbot.bot.digest import start_digest_scheduler
    from paperbot.bot.serve import TokenError, check_tokens, http_server
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
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        click.echo("paperbot: Socket Mode")
        SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()
        return
    server = http_server(app, host, settings.port)
    click.echo(f"paperbot: HTTP mode on {host}:{settings.port} (/slack/events, /healthz)")
    server.serve_forever()


def register(cli: click.Group) -> None:
    cli.add_command(serve)
