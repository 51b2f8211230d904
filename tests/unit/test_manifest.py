"""The shipped Slack app manifest: valid by the rules of Slack's app manifest schema, on the Agent
messaging experience, subscribed to what the app listens to, asking only for the scopes it uses."""

from __future__ import annotations

import re

import jsonschema
import pytest
import yaml

from tests.conftest import REPO

MANIFEST = REPO / "slack" / "manifest.yaml"

_STRING_LIST = {"type": "array", "items": {"type": "string", "maxLength": 50}, "uniqueItems": True}
_URL = {"type": "string", "pattern": r"^https?:\/\/", "maxLength": 3500}
_PROMPTS = {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                       "required": ["title", "message"],
                                       "properties": {"title": {"type": "string"}, "message": {"type": "string"}}}}


def _closed(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "additionalProperties": False, "properties": properties, "required": list(required)}


# The rules Slack's published app manifest schema (manifest-schema, v1 manifests) sets for every
# section and field this manifest uses; unknown keys are rejected there as here.
SLACK_MANIFEST_RULES = _closed({
    "_metadata": {"type": "object"},
    "display_information": _closed({
        "name": {"type": "string", "minLength": 1, "maxLength": 35},
        "description": {"type": "string", "minLength": 1, "maxLength": 140},
        "background_color": {"type": "string", "pattern": r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$"},
        "long_description": {"type": "string", "minLength": 175, "maxLength": 4000},
    }, ("name",)),
    "features": _closed({
        "app_home": _closed({"home_tab_enabled": {"type": "boolean"}, "messages_tab_enabled": {"type": "boolean"},
                             "messages_tab_read_only_enabled": {"type": "boolean"}}),
        "bot_user": _closed({"display_name": {"type": "string", "minLength": 1, "maxLength": 80},
                             "always_online": {"type": "boolean"}}, ("display_name",)),
        "agent_view": _closed({"agent_description": {"type": "string", "maxLength": 300},
                               "suggested_prompts": {**_PROMPTS, "maxItems": 4},
                               "actions": {"type": "array"}}),
        "assistant_view": _closed({"assistant_description": {"type": "string"}, "suggested_prompts": _PROMPTS},
                                  ("assistant_description",)),
        "slash_commands": {"type": "array", "minItems": 1, "maxItems": 50, "items": _closed({
            "command": {"type": "string", "minLength": 2, "maxLength": 32, "pattern": r"^\/"},
            "url": {"type": "string", "pattern": r"^https?:\/\/", "maxLength": 3000},
            "description": {"type": "string", "minLength": 1, "maxLength": 2000},
            "usage_hint": {"type": "string", "minLength": 1, "maxLength": 1000},
            "should_escape": {"type": "boolean"},
        }, ("command", "description"))},
        "shortcuts": {"type": "array"},
        "unfurl_domains": {"type": "array"},
    }),
    "oauth_config": _closed({
        "redirect_urls": {"type": "array"},
        "scopes": _closed({"bot": {**_STRING_LIST, "maxItems": 255}, "user": {**_STRING_LIST, "maxItems": 255}}),
        "token_management_enabled": {"type": "boolean"},
    }),
    "settings": _closed({
        "event_subscriptions": _closed({"request_url": _URL, "bot_events": {**_STRING_LIST, "maxItems": 100},
                                        "user_events": {**_STRING_LIST, "maxItems": 100}}),
        "interactivity": _closed({"is_enabled": {"type": "boolean"}, "request_url": _URL,
                                  "message_menu_options_url": _URL}, ("is_enabled",)),
        "org_deploy_enabled": {"type": "boolean"},
        "socket_mode_enabled": {"type": "boolean"},
        "token_rotation_enabled": {"type": "boolean"},
    }),
}, ("display_information",))


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def test_manifest_follows_slacks_manifest_schema(manifest):
    jsonschema.validate(manifest, SLACK_MANIFEST_RULES)


def test_the_rules_reject_what_slack_rejects(manifest):
    """The rules above catch the mistakes Slack would refuse the manifest for."""
    broken = [
        {**manifest, "features": {**manifest["features"], "agent_view": {"agent_description": "x" * 301}}},
        {**manifest, "features": {**manifest["features"], "agent_view": {"description": "typo'd key"}}},
        {**manifest, "features": {**manifest["features"], "assistant_view": {"suggested_prompts": []}}},
        {**manifest, "settings": {**manifest["settings"], "interactivity": {}}},
        {**manifest, "display_information": {"name": "p" * 36}},
    ]
    for candidate in broken:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(candidate, SLACK_MANIFEST_RULES)


def test_new_apps_get_the_agent_messaging_experience(manifest):
    features = manifest["features"]
    assert "assistant_view" not in features  # kept for existing apps only; new apps can't use it
    assert features["agent_view"]["agent_description"].strip()
    assert features["app_home"]["messages_tab_enabled"] is True
    assert features["app_home"]["messages_tab_read_only_enabled"] is False
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    # app_home_opened (tab "messages") replaces assistant_thread_started as the conversation's start.
    assert {"app_home_opened", "message.im", "app_mention", "message.channels", "message.groups",
            "link_shared"} == events


def test_manifest_declares_what_the_app_uses(manifest):
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/paper"]
    usage = manifest["features"]["slash_commands"][0]["usage_hint"]
    assert usage.startswith("<title") and "ask <question>" in usage
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["unfurl_domains"] == ["arxiv.org"]  # link_shared comes only for these
    from paperbot.bot.listeners.shared_pdfs import SHORTCUT

    assert [(s["type"], s["callback_id"]) for s in manifest["features"]["shortcuts"]] == [("message", SHORTCUT)]


# The scope each Web API method the bot calls needs (methods needing none are listed with None).
SCOPE_OF_METHOD = {
    "chat_postMessage": "chat:write", "chat_postEphemeral": "chat:write", "chat_update": "chat:write",
    "chat_stream": "chat:write",
    "assistant_threads_setStatus": "assistant:write", "assistant_threads_setSuggestedPrompts": "assistant:write",
    "assistant_threads_setTitle": "assistant:write",
    "conversations_replies": "im:history",  # Bolt's assistant thread-context store, in the DM
    "chat_unfurl": "links:write",
    "views_open": None, "views_update": None, "views_publish": None, "auth_test": None,
}
# Scopes that come with an event subscription or a feature rather than a method call.
SCOPES_FOR_EVENTS_AND_FEATURES = {"app_mentions:read", "channels:history", "groups:history", "im:history",
                                  "commands", "chat:write.public",
                                  "links:read",  # link_shared
                                  "files:read"}  # downloading a shared PDF from its url_private_download


def _methods_called() -> set[str]:
    """Web API methods the bot's code calls (client.<method>, Bolt's say/set_status/… helpers)."""
    called = set()
    for path in (REPO / "bot").rglob("*.py"):
        code = path.read_text()
        called |= set(re.findall(r"client\.([a-z]+_[A-Za-z_]+)\(", code))
        helpers = {"say(": "chat_postMessage", "set_status(": "assistant_threads_setStatus",
                   "set_title(": "assistant_threads_setTitle",
                   "set_suggested_prompts(": "assistant_threads_setSuggestedPrompts"}
        called |= {method for helper, method in helpers.items() if helper in code}
    return called


def test_every_method_the_bot_calls_has_its_scope_and_no_scope_is_unused(manifest):
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    called = _methods_called()
    assert called <= set(SCOPE_OF_METHOD), f"methods without a known scope: {called - set(SCOPE_OF_METHOD)}"
    needed = {SCOPE_OF_METHOD[m] for m in called if SCOPE_OF_METHOD[m]} | SCOPES_FOR_EVENTS_AND_FEATURES
    assert needed <= scopes, f"missing scopes: {needed - scopes}"
    assert scopes <= needed, f"unused scopes: {scopes - needed}"
    assert not scopes & {"im:read", "im:write", "channels:read", "users:read", "users:read.email", "files:write"}
