"""Start-up settings: a wrong value names the variable and never echoes a secret."""

from __future__ import annotations

import pytest

from solti.bot.settings import SettingsError, load_settings


def test_missing_bot_token_is_named() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({})
    assert caught.value.name == "SLACK_BOT_TOKEN" and "is not set" in str(caught.value)


def test_bad_values_named_without_echoing_secrets() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"SLACK_BOT_TOKEN": "xoxp-very-secret-value"})
    assert caught.value.name == "SLACK_BOT_TOKEN"
    assert "very-secret" not in str(caught.value)
    with pytest.raises(SettingsError) as caught:
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "nope-secret"})
    assert caught.value.name == "SLACK_APP_TOKEN" and "nope-secret" not in str(caught.value)
    with pytest.raises(SettingsError) as caught:
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SOLTI_HTTP_PORT": "http"})
    assert caught.value.name == "SOLTI_HTTP_PORT"


def test_modes() -> None:
    http = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert not http.socket_mode and http.slack_api_url.endswith("/api/")
    with pytest.raises(SettingsError) as caught:
        http.require_http()
    assert caught.value.name == "SLACK_SIGNING_SECRET"
    socket = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert socket.socket_mode and socket.solti_http_port == 3000
