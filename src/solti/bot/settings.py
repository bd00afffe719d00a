"""Bot settings from the environment, a `.env` file or Docker secrets, checked once at start-up.

Wrong or missing values stop `solti bot` with one line naming every variable to fix, so an
operator fixes them before Slack ever sees a half-working app. Secrets stay ``SecretStr`` and
are never echoed back, not even in the error for a malformed value. The sources and their order
are ``solti.provisioning.settings_sources``'s; each field names its variable once, below.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from solti.provisioning import ConfigError
from solti.provisioning.settings_sources import EnvironmentSettings

__all__ = ["DEFAULT_SLACK_API_URL", "BotSettings", "SettingsError", "load_settings"]

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class SettingsError(ConfigError):
    """A setting is missing or wrong; ``name`` is the (first) environment variable to fix."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message, key=name)
        self.name = name


class BotSettings(EnvironmentSettings):
    """Everything `solti bot` reads besides ``PROXMOX_*`` (names: docs/configuration.md)."""

    slack_bot_token: SecretStr = Field(
        validation_alias="SLACK_BOT_TOKEN", description="Bot token, xoxb-..."
    )
    slack_signing_secret: SecretStr | None = Field(
        None,
        validation_alias="SLACK_SIGNING_SECRET",
        description="Signing secret; required in HTTP mode.",
    )
    slack_app_token: SecretStr | None = Field(
        None,
        validation_alias="SLACK_APP_TOKEN",
        description="App-level token xapp-...; set it to use Socket Mode.",
    )
    slack_api_url: str = Field(
        DEFAULT_SLACK_API_URL, validation_alias="SLACK_API_URL", description="Web API base URL."
    )
    solti_http_port: int = Field(
        3000,
        ge=0,
        le=65535,
        validation_alias="SOLTI_HTTP_PORT",
        description=(
            "The port for GET /healthz and GET /metrics (both modes) and POST /slack/events "
            "(HTTP mode only)."
        ),
    )
    solti_db: Path = Field(
        Path("solti.db"),
        validation_alias="SOLTI_DB",
        description="SQLite file (audit, keys, approvals).",
    )
    solti_config: Path | None = Field(
        None, validation_alias="SOLTI_CONFIG", description="YAML policy and catalog file."
    )

    @classmethod
    def _new_error(cls, message: str, key: str) -> ConfigError:
        return SettingsError(key, message)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_signing_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @property
    def socket_mode(self) -> bool:
        """Socket Mode needs no public URL, which suits a lab behind NAT."""
        return self.slack_app_token is not None

    def require_http(self) -> None:
        """HTTP mode cannot verify Slack's requests without the signing secret."""
        if self.slack_signing_secret is None:
            raise SettingsError(
                "SLACK_SIGNING_SECRET",
                "required in HTTP mode (or set SLACK_APP_TOKEN to use Socket Mode)",
            )


def load_settings(env: Mapping[str, str] | None = None) -> BotSettings:
    """``BotSettings.from_env(env)``: ``env`` stands for the whole environment when given."""
    return BotSettings.from_env(env)
