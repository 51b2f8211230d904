"""The `paperbot` command line.

Each sub-module adds its commands with ``register(cli)``. Library errors become
``click.ClickException`` here, at the edge, never deeper.
"""

from __future__ import annotations

import click

from paperbot.bot.logs import configure_logging
from paperbot.config import Settings, SettingsError, load_settings


@click.group()
@click.version_option(package_name="paperbot")
@click.pass_context
def main(ctx: click.Context) -> None:
    """paperbot: answers from your reading group's paper summaries, in Slack and in the terminal."""
    ctx.obj = None  # settings are read by the command that needs them: see get_settings()


def get_settings(ctx: click.Context) -> Settings:
    """Settings for this invocation, read once; a bad value is a clean error naming the setting."""
    if ctx.find_root().obj is None:
        try:
            settings = load_settings()
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
        configure_logging(settings.log_level)
        ctx.find_root().obj = settings
    return ctx.find_root().obj


def _register_commands() -> None:
    from paperbot.bot.cli import add, ask, catalog, corpus, digest, serve

    for module in (corpus, add, catalog, ask, serve, digest):
        module.register(main)


_register_commands()
