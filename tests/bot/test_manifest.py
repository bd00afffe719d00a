"""manifest.yml against Slack's manifest schema (vendored in tests/data), plus our promises."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# SchemaStore's schema, vendored: see tests/data/slack-app-manifest/SOURCE.md.
SCHEMA = ROOT / "tests" / "data" / "slack-app-manifest" / "slack-app-manifest.schema.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_is_valid_against_schema(manifest: dict) -> None:
    assert SCHEMA.is_file(), f"{SCHEMA} is the manifest schema source"
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_manifest_declares_what_the_bot_uses(manifest: dict) -> None:
    command = manifest["features"]["slash_commands"][0]
    assert command["command"] == "/solti"
    assert "vm create" in command["usage_hint"]
    assert command["should_escape"] is True  # `--user @x` arrives as <@U..|x>
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert scopes == {"commands", "chat:write", "chat:write.public", "usergroups:read"}
    assert command["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")


def test_manifest_enables_the_home_tab_and_its_event(manifest: dict) -> None:
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] is True and home["messages_tab_enabled"] is True
    events = manifest["settings"]["event_subscriptions"]
    assert events["bot_events"] == ["app_home_opened"]
    assert events["request_url"].endswith("/slack/events")
