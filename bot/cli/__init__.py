"""The `paperbot` command line.

Each sub-module adds its commands with ``register(cli)``. Errors for people (`PaperbotError`,
the root of every error the product reports) become one ``Error: …`` line here, at the edge;
a command catches one itself only to say more than its message.
"""

from __future__ import annotations

import click

from ..logs import configure_logging
from ...config import Settings, load_settings
from ...config.errors import PaperbotError


class _Commands(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PaperbotError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Commands)
@click.version_option(package_name="paperbot")
@click.pass_context
def main(ctx: click.Context) -> None:
    """paperbot: answers from your reading group's paper summaries, in Slack and in the terminal."""
    ctx.obj = None  # settings are read by the command that needs them: see get_settings()


def get_settings(ctx: click.Context) -> Settings:
    """Settings for this invocation, read once; a bad value is a clean error naming the setting."""
    if ctx.find_root().obj is None:
        settings = load_settings()
        configure_logging(settings.log_level)
        ctx.find_root().obj = settings
    return ctx.find_root().obj


def _register_commands() -> None:
    from . import add, ask, catalog, corpus, digest, serve

    for module in (corpus, add, catalog, ask, serve, digest):
        module.register(main)


_register_commands()
