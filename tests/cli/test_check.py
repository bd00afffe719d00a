"""`solti check`: each item one line, a fix for each failure, exit 0 only when all pass."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from provisioning.cli.check import check_command, check_database, check_slack
from provisioning.cli.check_proxmox import (
    PRIVILEGES,
    missing_privileges,
    requirements_by_path,
)
from provisioning.cli.check_report import (
    CheckConfig,
    CheckResult,
    format_report,
    policy_id_results,
)
from sandbox.slack import SlackStandIn

BOT_TOKEN = "xoxb-1-check-test-token"


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


def _by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {result.name: result for result in results}


# --- pure -----------------------------------------------------------------------------------


def test_missing_privileges_needs_propagation_on_vms() -> None:
    granted = {"/vms": {"VM.Audit": 1, "VM.Clone": 0}}
    assert missing_privileges(granted, "/vms", ["VM.Audit", "VM.Clone", "VM.Allocate"], True) == [
        "VM.Clone",
        "VM.Allocate",
    ]
    assert missing_privileges(granted, "/vms", ["VM.Clone"], propagate=False) == []
    assert missing_privileges({}, "/storage/local", ["Datastore.Audit"], False) == [
        "Datastore.Audit"
    ]


def test_requirements_fill_in_storages_bridge_and_every_node() -> None:
    config = CheckConfig(vm_storage="local-lvm", image_storage="local", bridge="vmbr0")
    grouped = requirements_by_path(config, ["pve1", "pve2"])
    assert set(grouped) == {
        "/vms",
        "/storage/local-lvm",
        "/storage/local",
        "/nodes/pve1",
        "/nodes/pve2",
        "/sdn/zones/localnetwork/vmbr0",
    }
    assert "Datastore.AllocateTemplate" in {r.privilege for r in grouped["/storage/local"]}
    assert {r.privilege for r in grouped["/vms"]} >= {"VM.Clone", "VM.Allocate", "VM.PowerMgmt"}
    # An unset storage drops its paths instead of checking '/storage/None'.
    partial = requirements_by_path(CheckConfig(vm_storage="local-lvm"), ["pve"])
    assert not any("None" in path for path in partial)
    assert "/storage/local-lvm" in partial


def test_every_privilege_says_why() -> None:
    assert all(requirement.why for requirement in PRIVILEGES)
    assert len({(r.path, r.privilege) for r in PRIVILEGES}) == len(PRIVILEGES)


def test_policy_ids_must_be_ids_not_names() -> None:
    good = CheckConfig(
        approvers=["U0123ABCD", "S0123ABCD"],
        admins=["W0123ABCD"],
        channels={"approvals_channel": "C0123ABCD"},
    )
    assert [r.status for r in policy_id_results(good)] == ["ok"]
    bad = CheckConfig(approvers=["alice"], channels={"reports.channel": "#general"})
    (result,) = policy_id_results(bad)
    assert result.status == "fail"
    assert "'alice'" in result.detail and "'#general'" in result.detail
    assert result.fix and "ids" in result.fix
    (no_approvers,) = policy_id_results(CheckConfig())
    assert no_approvers.status == "warn"


def test_report_puts_the_fix_under_a_failure() -> None:
    text = format_report(
        [
            CheckResult("database", "ok", "writable", "never shown"),
            CheckResult("proxmox.tls", "fail", "bad", "do this"),
        ]
    )
    lines = text.splitlines()
    assert lines[0].startswith("OK") and "never shown" not in text
    assert lines[1].startswith("FAIL") and "proxmox.tls" in lines[1]
    assert lines[2].strip() == "fix: do this"


# --- database -------------------------------------------------------------------------------


def test_database_writable(tmp_path: Path) -> None:
    new = check_database(tmp_path / "solti.db")
    assert new.status == "ok" and "will be created" in new.detail
    (tmp_path / "solti.db").touch()
    assert check_database(tmp_path / "solti.db").status == "ok"
    missing = check_database(tmp_path / "nope" / "solti.db")
    assert missing.status == "fail"
    assert "does not exist" in missing.detail and missing.fix and "SOLTI_DB" in missing.fix


def test_database_that_is_not_sqlite_fails(tmp_path: Path) -> None:
    path = tmp_path / "solti.db"
    path.write_bytes(b"this is not a database, it is a text file " * 100)
    result = check_database(path)
    assert result.status == "fail"
    assert str(path) in result.detail


# --- Slack (against the stand-in) ------------------------------------------------------------


def test_slack_token_and_scopes_pass(slack: SlackStandIn) -> None:
    results = _by_name(check_slack(CheckConfig(slack_bot_token=BOT_TOKEN, slack_api_url=slack.url)))
    assert results["slack.token"].status == "ok"
    assert results["slack.scopes"].status == "ok"
    assert results["slack.socket_mode"].status == "skip"
    assert any(call.method == "auth.test" for call in slack.calls)


def test_slack_bad_token_fails_with_fix(slack: SlackStandIn) -> None:
    results = check_slack(CheckConfig(slack_bot_token="xoxp-user-token", slack_api_url=slack.url))
    (token,) = results
    assert token.status == "fail"
    assert "invalid_auth" in token.detail
    assert token.fix and "SLACK_BOT_TOKEN" in token.fix
    assert "xoxp-user-token" not in token.detail + token.fix


def test_slack_unreachable_fails() -> None:
    results = check_slack(
        CheckConfig(slack_bot_token=BOT_TOKEN, slack_api_url="http://127.0.0.1:9/api/")
    )
    assert results[0].status == "fail" and "cannot reach" in results[0].detail


def test_slack_skipped_without_token() -> None:
    (result,) = check_slack(CheckConfig())
    assert result.status == "skip"
    assert "SLACK_BOT_TOKEN not set" in result.detail


# --- the command ----------------------------------------------------------------------------


def test_command_without_proxmox_settings_fails_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOLTI_DB", str(tmp_path / "solti.db"))
    result = CliRunner().invoke(check_command, [])
    assert result.exit_code == 1
    assert "PROXMOX_URL" in result.output
    assert "fix:" in result.output


def test_command_json_and_bad_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("approvers: [alice]\n")
    monkeypatch.setenv("SOLTI_CONFIG", str(policy))
    monkeypatch.setenv("SOLTI_DB", str(tmp_path / "solti.db"))
    result = CliRunner().invoke(check_command, ["--json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    checks = _by_name([CheckResult(**item) for item in document["checks"]])
    assert checks["policy.file"].status == "fail"
    assert "approvers" in checks["policy.file"].detail
    assert checks["database"].status == "ok"
