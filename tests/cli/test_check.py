"""`solti check`: each item one line, a fix for each failure, exit 0 only when all pass."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from solti.bot.slack_check import REQUIRED_SLACK_SCOPES, SlackCheckConfig, check_slack
from solti.check_command import check_command
from solti.provisioning.cli.check import check_database
from solti.provisioning.cli.check_proxmox import (
    PRIVILEGES,
    missing_privileges,
    requirements_by_path,
)
from solti.provisioning.cli.check_report import (
    CheckConfig,
    CheckResult,
    format_report,
    policy_id_results,
)
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn

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
    results = _by_name(check_slack(SlackCheckConfig(bot_token=BOT_TOKEN, api_url=slack.url)))
    assert results["slack.token"].status == "ok"
    assert results["slack.scopes"].status == "ok"
    assert results["slack.socket_mode"].status == "skip"
    assert any(call.method == "auth.test" for call in slack.calls)


def test_slack_bad_token_fails_with_fix(slack: SlackStandIn) -> None:
    results = check_slack(SlackCheckConfig(bot_token="xoxp-user-token", api_url=slack.url))
    (token,) = results
    assert token.status == "fail"
    assert "invalid_auth" in token.detail
    assert token.fix and "SLACK_BOT_TOKEN" in token.fix
    assert "xoxp-user-token" not in token.detail + token.fix


def test_slack_unreachable_fails() -> None:
    results = check_slack(SlackCheckConfig(bot_token=BOT_TOKEN, api_url="http://127.0.0.1:9/api/"))
    assert results[0].status == "fail" and "cannot reach" in results[0].detail


def test_slack_skipped_without_token() -> None:
    (result,) = check_slack(SlackCheckConfig())
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


# --- against the Proxmox VE simulator --------------------------------------------------------

POLICY = {
    "approvers": ["U0APPROVER1"],
    "admins": ["U0ADMIN0001"],
    "approvals_channel": "C0APPROVALS",
    "reports": {"channel": "C0REPORTS01"},
}


@pytest.fixture(scope="module")
def shared_world() -> Iterator[SimEnvironment]:
    with SimEnvironment(nodes=2, policy=POLICY) as environment:
        yield environment


@pytest.fixture
def world(
    shared_world: SimEnvironment,
    slack: SlackStandIn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> SimEnvironment:
    """The simulator and the Slack stand-in in the environment, as an operator would set it."""
    shared_world.reset()
    for name, value in shared_world.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SOLTI_DB", str(tmp_path / "solti.db"))
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    return shared_world


def _run(*args: str) -> tuple[int, dict[str, CheckResult], str]:
    result = CliRunner().invoke(check_command, ["--json", *args])
    document = json.loads(result.stdout)
    return result.exit_code, _by_name([CheckResult(**c) for c in document["checks"]]), result.output


def test_passes_against_the_simulator(world: SimEnvironment) -> None:
    code, checks, _ = _run()
    failed = {name: c.detail for name, c in checks.items() if c.status == "fail"}
    assert code == 0, failed
    for name in (
        "policy.file",
        "policy.ids",
        "database",
        "proxmox.tls",
        "proxmox.version",
        "proxmox.privileges /vms",
        "proxmox.privileges /storage/local",
        "proxmox.privileges /nodes/pve2",
        "proxmox.storage pve/local",
        "proxmox.storage pve2/local-lvm",
        "proxmox.bridge pve/vmbr0",
        "proxmox.bridge pve2/vmbr0",
        "slack.token",
        "slack.scopes",
    ):
        assert checks[name].status == "ok", (name, checks[name])
    assert checks["proxmox.bridge pve/vmbr0"].detail == "bridge exists"
    # The text report has one line per item.
    text = CliRunner().invoke(check_command, [])
    assert text.exit_code == 0
    assert len([line for line in text.output.splitlines() if not line.startswith(" ")]) == len(
        checks
    )


def test_strict_fails_on_skipped_items(world: SimEnvironment) -> None:
    code, checks, _ = _run("--strict")
    assert code == 1
    assert any(check.status == "skip" for check in checks.values())


def test_token_lacking_a_privilege_fails_with_the_fix(world: SimEnvironment) -> None:
    world.pve.state.revoke_token_privileges("/", "VM.Clone")
    code, checks, _ = _run()
    assert code == 1
    vms = checks["proxmox.privileges /vms"]
    assert vms.status == "fail"
    assert "VM.Clone" in vms.detail and "clone VMs from templates" in vms.detail
    assert vms.fix and "pveum acl modify /vms" in vms.fix and world.pve.token_id in vms.fix
    assert checks["proxmox.privileges /storage/local"].status == "ok"


def test_privilege_that_does_not_propagate_to_new_vmids_fails(world: SimEnvironment) -> None:
    world.pve.state.set_token_privileges("/vms", {"VM.Allocate": 0, "VM.Clone": 1})
    code, checks, _ = _run()
    assert code == 1
    assert "VM.Allocate" in checks["proxmox.privileges /vms"].detail
    assert "VM.Clone" not in checks["proxmox.privileges /vms"].detail.split("lacks", 1)[1]


def test_image_storage_without_import_content_fails_with_the_fix(world: SimEnvironment) -> None:
    world.pve.state.storages["local"].content.discard("import")
    code, checks, _ = _run()
    assert code == 1
    local = checks["proxmox.storage pve/local"]
    assert local.status == "fail"
    assert "lacks `import` content" in local.detail
    assert local.fix and local.fix.startswith("pvesm set local --content ")
    assert local.fix.endswith(",import")


def test_missing_bridge_on_one_node_fails_with_the_fix(world: SimEnvironment) -> None:
    world.pve.state.remove_interface("pve2", "vmbr0")
    world.pve.state.add_bridge("pve2", "vmbr1", ports="eno1")
    code, checks, _ = _run()
    assert code == 1
    assert checks["proxmox.bridge pve/vmbr0"].status == "ok"
    missing = checks["proxmox.bridge pve2/vmbr0"]
    assert missing.status == "fail"
    assert missing.detail == "no bridge vmbr0 on pve2 (bridges: vmbr1)"
    assert missing.fix and missing.fix.startswith("create vmbr0 on pve2")
    assert "defaults.bridge" in missing.fix


def test_wrong_token_secret_fails_without_echoing_it(
    world: SimEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "00000000-0000-0000-0000-000000000000"
    monkeypatch.setenv("PROXMOX_TOKEN_SECRET", wrong)
    code, checks, output = _run()
    assert code == 1
    token = checks["proxmox.token"]
    assert token.status == "fail" and "proxmox.reachable" not in checks
    assert token.detail.startswith(
        f"Proxmox rejected the API token PROXMOX_TOKEN_ID={world.pve.token_id}: check the secret"
    )
    assert token.fix and "PROXMOX_TOKEN_SECRET" in token.fix
    assert wrong not in output


def test_required_scopes_are_the_manifests() -> None:
    import yaml

    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())
    assert set(REQUIRED_SLACK_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])


def test_missing_optional_guest_agent_privilege_only_warns(world: SimEnvironment) -> None:
    world.pve.state.revoke_token_privileges("/", "VM.GuestAgent.Audit")
    code, checks, _ = _run()
    assert code == 0
    vms = checks["proxmox.privileges /vms"]
    assert vms.status == "warn"
    assert "VM.GuestAgent.Audit" in vms.detail and "VMID instead of the address" in vms.detail
    assert vms.fix and "--privs 'VM.GuestAgent.Audit'" in vms.fix


def test_required_and_optional_missing_together_fail_naming_both(world: SimEnvironment) -> None:
    world.pve.state.revoke_token_privileges("/", "VM.GuestAgent.Audit", "VM.PowerMgmt")
    code, checks, _ = _run()
    assert code == 1
    vms = checks["proxmox.privileges /vms"]
    assert vms.status == "fail"
    assert "VM.PowerMgmt" in vms.detail and "VM.GuestAgent.Audit" in vms.detail
