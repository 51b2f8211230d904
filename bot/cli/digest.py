"""`paperbot digest`: print or post the weekly digest (for cron)."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from . import get_settings


@click.command()
@click.option("--dry-run", "mode", flag_value="dry-run", default=True,
              help="Print this week's digest as plain text; post nothing (the default).")
@click.option("--post", "mode", flag_value="post",
              help="Post the digest to the digest channel, once per week however often it runs.")
@click.pass_context
def digest(ctx: click.Context, mode: str) -> None:
    """Print this week's digest, or post it to PAPERBOT_DIGEST__CHANNEL.

    Run `paperbot digest --post` from cron at the digest time: posting is idempotent per
    week (the ISO week in PAPERBOT_DIGEST__TIMEZONE), so a re-run or a second replica
    never posts twice. `paperbot serve` posts on its own schedule too.
    """
    from ..weekly_digest import DigestLedger, build_digest, post_digest
    from ..blocks.digest_blocks import digest_text
    from ..state.store import State
    from ...retrieval.library import Library

    settings = get_settings(ctx)
    library = Library(settings)
    state = State.from_settings(settings)
    ledger = DigestLedger(state.engine)
    now = datetime.now(timezone.utc)
    if mode == "dry-run":
        click.echo(digest_text(build_digest(library, ledger, state, now)))
        return
    if not settings.digest.channel:
        raise click.ClickException("Set PAPERBOT_DIGEST__CHANNEL to the channel id the digest goes to.")
    if settings.slack_bot_token is None:
        raise click.ClickException("Set SLACK_BOT_TOKEN to post the digest.")
    from ..slack_client import build_web_client

    outcome = post_digest(build_web_client(settings), settings, library, ledger, state, now=now)
    messages = {
        "posted": f"Posted the digest for {outcome.period} to {settings.digest.channel} (ts {outcome.ts}).",
        "already_posted": f"The digest for {outcome.period} was already posted; nothing to do.",
        "skipped_empty": f"Nothing new in {outcome.period}; skipped (PAPERBOT_DIGEST__SKIP_EMPTY).",
        "no_channel": "No digest channel configured.",
    }
    click.echo(messages[outcome.status])


def register(cli: click.Group) -> None:
    """Add this module's commands to the `paperbot` group."""
    cli.add_command(digest)
