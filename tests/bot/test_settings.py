"""Start-up settings: every wrong value names its variable and never echoes a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from solti.bot.settings import BotSettings, SettingsError, load_settings
from solti.provisioning import ConfigError


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


def test_every_bad_variable_at_once_without_secrets() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxp-very-secret-value",
                "SLACK_APP_TOKEN": "nope-secret-value",
                "SOLTI_HTTP_PORT": "99999",
            }
        )
    text = str(caught.value)
    assert caught.value.name == "SLACK_BOT_TOKEN"
    assert "SLACK_BOT_TOKEN: must be a bot token starting with xoxb-" in text
    assert "SLACK_APP_TOKEN: must be an app-level token starting with xapp-" in text
    assert "SOLTI_HTTP_PORT: must be at most 65535, got '99999'" in text
    assert "very-secret" not in text and "nope-secret" not in text


def test_config_error_is_what_callers_catch() -> None:
    with pytest.raises(ConfigError):
        load_settings({})


def test_tokens_from_docker_secrets(tmp_path: Path) -> None:
    (tmp_path / "slack_bot_token").write_text("xoxb-from-a-file\n")
    (tmp_path / "SLACK_APP_TOKEN").write_text("xapp-from-a-file")
    settings = load_settings({"SOLTI_SECRETS_DIR": str(tmp_path), "SOLTI_DB": "/data/s.db"})
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-a-file"
    assert settings.socket_mode and settings.solti_db == Path("/data/s.db")


def test_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / "bot.env"
    env_file.write_text("SLACK_BOT_TOKEN=xoxb-1\nSOLTI_HTTP_PORT=3100\nPROXMOX_URL=https://x\n")
    settings = BotSettings.from_env({"SOLTI_ENV_FILE": str(env_file)})
    assert settings.solti_http_port == 3100 and not settings.socket_mode
