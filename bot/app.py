"""Build the Bolt app: one `register(app, deps)` per Slack surface."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from paperbot.bot import add_paper, assistant, commands, events, feedback, home
from paperbot.bot.once import claim_deliveries
from paperbot.bot.replying import Deps
from paperbot.bot.slack_client import build_web_client
from paperbot.config import Settings


def build_app(settings: Settings, library, state, *, client: WebClient | None = None) -> App:
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = App(
        client=client or build_web_client(settings),
        signing_secret=secret,
        # Socket Mode needs no signing secret; HTTP mode refuses to start without one (see serve).
        request_verification_enabled=secret is not None,
    )
    deps = Deps(settings=settings, library=library, state=state)
    app.use(claim_deliveries(state))  # commands, clicks, forms and events run once across replicas
    for surface in (assistant, events, feedback, commands, add_paper, home):
        surface.register(app, deps)
    return app
