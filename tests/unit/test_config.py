"""Configuration: PROXMOX_* settings and the policy file; every error names its key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from solti.provisioning.config import Policy, ProxmoxSettings, load_policy, parse_duration
from solti.provisioning.errors import ConfigError
from solti.provisioning.sizes import Size
from tests.helpers.keys import new_ssh_key

SECRET = "0f3c5e1a-5b1f-4c59-8a7e-d2b9a3c4e5f6"
ENV = {
    "PROXMOX_URL": "https://pve1.example:8443",
    "PROXMOX_TOKEN_ID": "root@pam!solti",
    "PROXMOX_TOKEN_SECRET": SECRET,
}


def test_settings_from_mapping() -> None:
    settings = ProxmoxSettings.from_env(ENV)
    assert (settings.host, settings.port) == ("pve1.example", 8443)
    assert settings.verify is True
    assert settings.token_secret.get_secret_value() == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(settings)


def test_settings_from_process_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    for name, value in {**ENV, "PROXMOX_URL": "https://10.0.0.2",
                        "PROXMOX_CA_BUNDLE": str(ca)}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    settings = ProxmoxSettings.from_env()
    assert settings.port == 8006
    assert settings.verify == str(ca)
    assert ProxmoxSettings().url == "https://10.0.0.2"  # BaseSettings reads the same variables


def test_verify_flag_off_wins_over_nothing() -> None:
    settings = ProxmoxSettings.from_env({**ENV, "PROXMOX_VERIFY_SSL": "false"})
    assert settings.verify is False


@pytest.mark.parametrize(
    ("override", "key", "message"),
    [
        ({"PROXMOX_URL": "http://pve1:8006"}, "PROXMOX_URL", "is not https://host[:port]"),
        ({"PROXMOX_URL": "https://pve1:8006/api2/json"}, "PROXMOX_URL", "has a path"),
        ({"PROXMOX_URL": "https://pve1:99999"}, "PROXMOX_URL", "bad port"),
        ({"PROXMOX_TOKEN_ID": "root@pam"}, "PROXMOX_TOKEN_ID", "is not user@realm!tokenname"),
        ({"PROXMOX_VERIFY_SSL": "perhaps"}, "PROXMOX_VERIFY_SSL", "PROXMOX_VERIFY_SSL"),
        ({"PROXMOX_CA_BUNDLE": "/nonexistent/ca.pem"}, "PROXMOX_CA_BUNDLE", "not a readable"),
        ({"PROXMOX_URL": ""}, "PROXMOX_URL", "is required"),
    ],
)
def test_settings_errors_name_the_variable(override: dict, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        ProxmoxSettings.from_env({**ENV, **override})
    assert info.value.key == key
    assert message in str(info.value)
    assert SECRET not in str(info.value)


def test_missing_secret_never_echoes_anything() -> None:
    with pytest.raises(ConfigError, match="PROXMOX_TOKEN_SECRET: is required"):
        ProxmoxSettings.from_env({k: v for k, v in ENV.items() if "SECRET" not in k})


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "solti.yaml"
    path.write_text(text)
    return path


def test_no_file_means_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = load_policy(None)
    assert policy == Policy()
    assert policy.defaults.bridge == "vmbr0" and policy.defaults.vm_storage == "local-lvm"
    assert policy.defaults.disk == Size("32G")
    assert policy.quotas.max_vms_per_user is None
    assert policy.approvals.expire_after == timedelta(hours=24)


def test_full_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = new_ssh_key()
    path = _write(
        tmp_path,
        f"""
approvers: [U01ABC, S02GRP]
approvals_channel: C0APPROVE
admins: [U01ABC]
allowed_channels: [C0OPS]
creators: []
quotas: {{max_vms_per_user: 3}}
approvals: {{expire_after: 30m}}
reports: {{channel: C0OPS, cron: "0 8 * * 1-5", timezone: Europe/Berlin}}
defaults:
  cores: 4
  memory: 4096
  disk: 40G
  ssh_keys: ["{key} team"]
  bridge: vmbr1
distributions:
  rocky9: {{image_url: "http://127.0.0.1:1/rocky9.qcow2"}}
""",
    )
    monkeypatch.setenv("SOLTI_CONFIG", str(path))
    policy = load_policy()
    assert policy.approvers == ["U01ABC", "S02GRP"]
    assert policy.quotas.max_vms_per_user == 3
    assert policy.approvals.expire_after == timedelta(minutes=30)
    assert policy.defaults.disk == Size("40G") and policy.defaults.bridge == "vmbr1"
    assert policy.defaults.ssh_keys == [f"{key} team"]
    assert policy.catalog().get("rocky9").image_url == "http://127.0.0.1:1/rocky9.qcow2"


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("quotas: {max_vms_per_user: lots}", "quotas.max_vms_per_user",
         "quotas.max_vms_per_user: must be an integer >= 0, got 'lots'"),
        ("quotas: {max_vms_per_user: -1}", "quotas.max_vms_per_user", "must be >= 0"),
        ("defaults: {brige: vmbr0}", "defaults.brige",
         "defaults.brige: unknown key (did you mean bridge?)"),
        ("reports: {cron: '61 * * * *'}", "reports.cron", "is not a crontab line"),
        ("reports: {timezone: Mars/Olympus}", "reports.timezone", "is not a time zone"),
        ("approvals: {expire_after: soon}", "approvals.expire_after", "is not a duration"),
        ("approvers: [alice]", "approvers", "'alice' is not a Slack user id"),
        ("allowed_channels: ['#ops']", "allowed_channels", "not a Slack channel id"),
        ("defaults: {disk: 3X}", "defaults.disk", "is not a size"),
        ("defaults: {ssh_keys: ['ssh-rsa AAAA bob']}", "defaults.ssh_keys", "key 1 (bob)"),
        ("defaults: {ssh_user: Root}", "defaults.ssh_user", "not a user name"),
        ("distributions: {mine: {image_url: 'http://m/x.qcow2'}}",
         "distributions.mine.checksum_url", "a new distribution needs"),
        ("quota: {}", "quota", "unknown key (did you mean quotas?)"),
        ("- just a list", "SOLTI_CONFIG", "must be a mapping"),
        ("a: [", "SOLTI_CONFIG", "not valid YAML at line"),
    ],
)  # fmt: skip
def test_policy_errors_name_the_key(tmp_path: Path, text: str, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_policy(_write(tmp_path, text))
    assert info.value.key == key
    assert message in str(info.value)


def test_empty_file_is_defaults(tmp_path: Path) -> None:
    assert load_policy(_write(tmp_path, "")) == Policy()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SOLTI_CONFIG: cannot read"):
        load_policy(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90s", timedelta(seconds=90)), ("30m", timedelta(minutes=30)), ("2h", timedelta(hours=2)),
     ("1d", timedelta(days=1)), (45, timedelta(minutes=45))],
)  # fmt: skip
def test_durations(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_models_are_documented() -> None:
    """The configuration reference is generated from these descriptions."""
    for section in (Policy, *(Policy.model_fields[n].annotation for n in ("defaults", "reports"))):
        for name, field in section.model_fields.items():  # type: ignore[union-attr]
            if name not in ("quotas", "approvals", "reports", "defaults"):
                assert field.description, f"{section.__name__}.{name}"  # type: ignore[union-attr]
