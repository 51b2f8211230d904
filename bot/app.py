"""Build the Bolt app: one `register(app, deps)` per Slack surface."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App

from .listeners import (add_paper, arxiv_papers, assistant, commands, events, feedback, home, paper_edit,
                        shared_pdfs, unfurls)
from .state.once import claim_deliveries
from .deps import Deps
from .slack_client import bot_token, configure_web_client
from ..config import Settings

if TYPE_CHECKING:
    from ..retrieval.library import Library
    from .state.store import State


def build_app(settings: Settings, library: Library, state: State, *, check_token: bool = True) -> App:
    """The app with every surface registered; ``check_token=False`` when the caller has just
    asked Slack about the token itself (`paperbot serve` does, before loading the index)."""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    token = bot_token(settings)
    # Bolt gets the token and builds its client from it: handed a client of ours instead, it still
    # reads SLACK_BOT_TOKEN from the environment and warns on every start that the token is unused.
    app = App(
        token=token,
        signing_secret=secret,
        # Socket Mode needs no signing secret; HTTP mode refuses to start without one (see serve).
        request_verification_enabled=secret is not None,
        token_verification_enabled=False,  # checked below, once the client talks to our API URL
    )
    configure_web_client(app.client, settings)
    if token and check_token:
        app.client.auth_test()  # a revoked or wrong token stops the start here, not at the first event
    deps = Deps(settings=settings, library=library, state=state, arxiv=library.arxiv_client(settings))
    app.use(claim_deliveries(state))  # commands, clicks, forms and events run once across replicas
    # shared_pdfs before events: "@paperbot add this" on a PDF is not a question.
    for surface in (shared_pdfs, assistant, events, feedback, commands, add_paper, paper_edit, arxiv_papers, unfurls, home):
        surface.register(app, deps)
    return app
