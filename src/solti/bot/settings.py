"""Bot settings from the environment, checked once at start-up.

A wrong or missing value stops `solti bot` with one line naming the variable, so an operator
fixes it before Slack ever sees a half-working app. Secrets stay ``SecretStr`` and are never
echoed back, not even in the error for a malformed value.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_SLACK_API_URL", "BotSettings", "SettingsError", "load_settings"]

DEFAULT_SLACK_API_URL = "https://slack.com/api/"

_ENV_NAMES = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_api_url": "SLACK_API_URL",
    "solti_http_port": "SOLTI_HTTP_PORT",
    "solti_db": "SOLTI_DB",
    "solti_config": "SOLTI_CONFIG",
}


class SettingsError(ValueError):
    """A setting is missing or wrong; ``name`` is the environment variable to fix."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


class BotSettings(BaseSettings):
    """Everything `solti bot` reads from the environment (names as in docs/design.md)."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr = Field(description="Bot token, xoxb-...")
    slack_signing_secret: SecretStr | None = Field(
        None, description="Signing secret; required in HTTP mode."
    )
    slack_app_token: SecretStr | None = Field(
        None, description="App-level token xapp-...; set it to use Socket Mode."
    )
    slack_api_url: str = Field(DEFAULT_SLACK_API_URL, description="Web API base URL.")
    solti_http_port: int = Field(3000, ge=0, le=65535)
    solti_db: Path = Field(Path("solti.db"), description="SQLite file (audit, keys, approvals).")
    solti_config: Path | None = Field(None, description="YAML policy and catalog file.")

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
    """Read settings from ``env`` (default: the process environment) or raise SettingsError."""
    try:
        if env is None:
            return BotSettings()  # type: ignore[call-arg]
        values = {field: env[name] for field, name in _ENV_NAMES.items() if name in env}
        return BotSettings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        name = _ENV_NAMES.get(field, field.upper())
        if first["type"] == "missing":
            raise SettingsError(name, "is not set") from None
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(name, message) from None
