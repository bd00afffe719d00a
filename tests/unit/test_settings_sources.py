"""Settings sources: environment, SOLTI_ENV_FILE, a secrets directory; every error at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from solti import telemetry
from solti.provisioning import settings_sources
from solti.provisioning.config import ProxmoxSettings
from solti.provisioning.errors import ConfigError

SECRET = "0f3c5e1a-5b1f-4c59-8a7e-d2b9a3c4e5f6"
ENV = {"PROXMOX_URL": "https://pve1.example:8443", "PROXMOX_TOKEN_ID": "root@pam!solti"}


def test_secret_from_a_secrets_dir(tmp_path: Path) -> None:
    (tmp_path / "proxmox_token_secret").write_text(SECRET + "\n")  # as Docker mounts it
    settings = ProxmoxSettings.from_env({**ENV, "SOLTI_SECRETS_DIR": str(tmp_path)})
    assert settings.token_secret.get_secret_value() == SECRET
    assert telemetry.redact(f"token={SECRET}") == f"token={telemetry.REDACTED}"


def test_secrets_dir_from_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "PROXMOX_TOKEN_SECRET").write_text(SECRET)
    (tmp_path / "proxmox_ca_bundle").write_text("")  # an empty file counts as unset
    for name, value in {**ENV, "SOLTI_SECRETS_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PROXMOX_TOKEN_SECRET", raising=False)
    monkeypatch.delenv("PROXMOX_CA_BUNDLE", raising=False)
    settings = ProxmoxSettings.from_env()
    assert settings.token_secret.get_secret_value() == SECRET and settings.ca_bundle is None
    assert ProxmoxSettings().token_secret.get_secret_value() == SECRET  # same sources


def test_default_secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Path("/run/secrets") == settings_sources.DEFAULT_SECRETS_DIR
    (tmp_path / "proxmox_token_secret").write_text(SECRET)
    monkeypatch.setattr(settings_sources, "DEFAULT_SECRETS_DIR", tmp_path)
    settings = ProxmoxSettings.from_env(ENV)  # as the operator CLI passes its environment
    assert settings.token_secret.get_secret_value() == SECRET
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PROXMOX_TOKEN_SECRET", raising=False)
    monkeypatch.delenv("SOLTI_SECRETS_DIR", raising=False)
    assert ProxmoxSettings.from_env().token_secret.get_secret_value() == SECRET
    monkeypatch.setattr(settings_sources, "DEFAULT_SECRETS_DIR", tmp_path / "absent")
    with pytest.raises(ConfigError, match="PROXMOX_TOKEN_SECRET: is required"):
        ProxmoxSettings.from_env(ENV)  # no directory there: nothing to read, no error


def test_environment_with_files_for_code_that_reads_names(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "proxmox_token_secret").write_text(SECRET + "\n")
    (secrets / "slack_bot_token").write_text("xoxb-from-secrets")
    (secrets / "not a variable.pem").write_text("ignored")
    env_file = tmp_path / ".env"
    env_file.write_text("SOLTI_DB=/data/solti.db\nSLACK_BOT_TOKEN=xoxb-from-file\nEMPTY=\n")
    merged = settings_sources.environment_with_files(
        {
            "SOLTI_SECRETS_DIR": str(secrets),
            "SOLTI_ENV_FILE": str(env_file),
            "SOLTI_CONFIG": "/etc/solti/policy.yaml",
            "SOLTI_LOG_LEVEL": "",
        }
    )
    assert merged["PROXMOX_TOKEN_SECRET"] == SECRET
    assert merged["SLACK_BOT_TOKEN"] == "xoxb-from-file"  # the file wins over the secret
    assert merged["SOLTI_DB"] == "/data/solti.db"
    assert merged["SOLTI_CONFIG"] == "/etc/solti/policy.yaml"
    assert "EMPTY" not in merged and "SOLTI_LOG_LEVEL" not in merged
    assert not any(" " in name for name in merged)
    wrong = {"SOLTI_ENV_FILE": str(tmp_path / "absent"), "SOLTI_DB": "x.db"}
    assert settings_sources.environment_with_files(wrong) == wrong  # from_env names the error


def test_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / "solti.env"
    env_file.write_text(
        "# comment\nPROXMOX_URL=https://from-file:8006\n"
        f"PROXMOX_TOKEN_ID=root@pam!solti\nPROXMOX_TOKEN_SECRET='{SECRET}'\n"
        "SLACK_BOT_TOKEN=xoxb-not-ours\n"
    )
    settings = ProxmoxSettings.from_env({"SOLTI_ENV_FILE": str(env_file)})
    assert settings.url == "https://from-file:8006"
    assert settings.token_secret.get_secret_value() == SECRET
    beside = ProxmoxSettings.from_env(
        {"SOLTI_ENV_FILE": str(env_file), "PROXMOX_URL": "https://from-env"}
    )
    assert beside.url == "https://from-env"  # the environment wins over the file


def test_environment_then_env_file_then_secrets(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "proxmox_token_secret").write_text("from-secrets-dir")
    (secrets / "proxmox_url").write_text("https://from-secrets")
    env_file = tmp_path / ".env"
    env_file.write_text(f"PROXMOX_TOKEN_SECRET={SECRET}\n")
    settings = ProxmoxSettings.from_env(
        {**ENV, "SOLTI_ENV_FILE": str(env_file), "SOLTI_SECRETS_DIR": str(secrets)}
    )
    assert settings.url == ENV["PROXMOX_URL"]
    assert settings.token_secret.get_secret_value() == SECRET


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SOLTI_ENV_FILE", "/nonexistent/solti.env", "is not a readable file"),
        ("SOLTI_SECRETS_DIR", "/nonexistent/secrets", "is not a directory"),
    ],
)
def test_a_missing_source_is_an_error(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        ProxmoxSettings.from_env({**ENV, "PROXMOX_TOKEN_SECRET": SECRET, variable: value})
    assert info.value.key == variable and message in str(info.value)


def test_three_bad_variables_in_one_error() -> None:
    with pytest.raises(ConfigError) as info:
        ProxmoxSettings.from_env(
            {
                "PROXMOX_URL": "http://pve1",
                "PROXMOX_TOKEN_ID": "root@pam",
                "PROXMOX_VERIFY_SSL": "perhaps",
            }
        )
    text = str(info.value)
    assert info.value.key == "PROXMOX_URL"
    assert "PROXMOX_URL: 'http://pve1' is not https://host[:port]" in text
    assert "PROXMOX_TOKEN_ID: 'root@pam' is not user@realm!tokenname" in text
    assert "PROXMOX_VERIFY_SSL: must be true or false" in text and "got 'perhaps'" in text
    assert "PROXMOX_TOKEN_SECRET: is required but is not set (API token secret" in text
    assert text.count("; ") == 3


def test_a_secret_is_never_in_the_message(tmp_path: Path) -> None:
    (tmp_path / "proxmox_token_secret").write_text(SECRET)
    with pytest.raises(ConfigError) as info:  # pasted into the wrong variable as well
        ProxmoxSettings.from_env(
            {"PROXMOX_URL": SECRET, "PROXMOX_TOKEN_ID": SECRET, "SOLTI_SECRETS_DIR": str(tmp_path)}
        )
    text = str(info.value)
    assert "PROXMOX_URL" in text and "PROXMOX_TOKEN_ID" in text
    assert SECRET not in text and "[secret]" in text


def test_solti_check_reads_the_same_sources(tmp_path: Path) -> None:
    from solti.provisioning.cli.check import load_check_config

    (tmp_path / "proxmox_token_secret").write_text(SECRET)
    config, _ = load_check_config({**ENV, "SOLTI_SECRETS_DIR": str(tmp_path)})
    assert config.token_secret == SECRET and config.proxmox_url == ENV["PROXMOX_URL"]
