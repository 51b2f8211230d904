"""The shipped Slack app manifest matches what the app listens to."""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parent.parent / "slack" / "manifest.yaml"


def test_manifest_declares_what_the_app_uses():
    manifest = yaml.safe_load(MANIFEST.read_text())
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "message.channels", "assistant_thread_started", "app_home_opened"} <= events
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/paper"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history", "assistant:write"} <= scopes
    # Least privilege: nothing that reads or writes beyond what the bot does.
    assert not scopes & {"channels:read", "users:read.email", "files:write", "admin", "chat:write.customize"}
