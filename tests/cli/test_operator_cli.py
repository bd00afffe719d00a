"""`solti template|vm|audit` against the simulator: JSON output, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from solti.sandbox.environment import SimEnvironment
from tests.cli.clihelpers import solti
from tests.helpers.keys import new_ssh_key


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    world.reset()
    return {**world.env, "SOLTI_DB": str(tmp_path / "solti.db")}


@pytest.fixture
def key() -> str:
    return new_ssh_key("ops@example")


def as_json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line_error(result: Any) -> str:
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_template_build_list_verify_updates_json(env: dict[str, str]) -> None:
    built = as_json(solti(env, "template", "build", "rocky9", "--json"))
    assert built["template"]["vmid"] == 9000 and built["downloaded"] is True
    listed = as_json(solti(env, "template", "list", "--json"))
    assert [t["name"] for t in listed] == ["rocky9-template"]
    assert as_json(solti(env, "template", "verify", "9000", "--json"))["distribution"] == "rocky9"
    updates = as_json(solti(env, "template", "updates", "rocky9", "--json"))
    assert updates[0]["state"] == "current"
    table = solti(env, "template", "list")
    assert table.exit_code == 0 and "rocky9-template" in table.stdout


def test_vm_create_lifecycle_and_audit(env: dict[str, str], world: SimEnvironment,
                                       key: str) -> None:  # fmt: skip
    world.pve.state.add_template(9000, "rocky9-template", disk_size="10G",
                                 tags=["solti", "template", "rocky9"])  # fmt: skip
    plan = as_json(solti(env, "vm", "create", "rocky9", "--ssh-key", key, "--dry-run", "--json"))
    assert plan["vmid"] == 500 and plan["resize"] is True
    assert sorted(world.pve.state.guests) == [9000]
    made = as_json(
        solti(
            env,
            "vm",
            "create",
            "rocky9",
            "--ssh-key",
            key,
            "--name",
            "web1",
            "--disk",
            "20G",
            "--ip",
            "10.0.0.5/24",
            "--gw",
            "10.0.0.1",
            "--json",
        )
    )
    assert made["vm"]["vmid"] == 500 and made["vm"]["status"] == "running"
    vms = as_json(solti(env, "vm", "list", "--mine", "--json"))
    assert [v["vmid"] for v in vms] == [500] and vms[0]["owner"]
    assert as_json(solti(env, "vm", "verify", "500", "--json"))["name"] == "web1"
    assert as_json(solti(env, "vm", "shutdown", "500", "--json"))["status"] == "stopped"
    assert as_json(solti(env, "vm", "start", "500", "--json"))["status"] == "running"
    assert as_json(solti(env, "vm", "stop", "500", "--yes", "--json"))["status"] == "stopped"
    assert as_json(solti(env, "vm", "remove", "500", "--yes", "--json"))["vmid"] == 500
    records = as_json(solti(env, "audit", "--vmid", "500", "--json"))
    assert [r["action"] for r in records][::-1] == [
        "vm create", "vm shutdown", "vm start", "vm stop", "vm remove"]  # fmt: skip
    assert all(r["via"] == "cli" and r["result"] == "ok" for r in records)
    csv_out = solti(env, "audit", "--csv")
    assert csv_out.exit_code == 0 and csv_out.stdout.startswith("at,actor,via,action")


def test_destructive_verbs_refuse_without_terminal_or_yes(
    env: dict[str, str], world: SimEnvironment
) -> None:
    world.pve.state.add_vm(600, "keepme")
    world.pve.state.add_template(9000, "rocky9-template")
    for args in (("vm", "remove", "600"), ("vm", "stop", "600"), ("template", "destroy", "9000")):
        line = one_line_error(solti(env, *args))
        assert "--yes" in line
    assert sorted(world.pve.state.guests) == [600, 9000]


def test_errors_are_one_line(env: dict[str, str], world: SimEnvironment, key: str) -> None:
    line = one_line_error(solti(env, "vm", "create", "debian13", "--ssh-key", key))
    assert "debian13" in line and "template build" in line
    line = one_line_error(solti(env, "vm", "create", "rocky9"))
    assert "SSH public key" in line or "template" in line
    line = one_line_error(solti(env, "vm", "verify", "4242"))
    assert "4242" in line
    missing = {k: v for k, v in env.items() if k != "PROXMOX_TOKEN_SECRET"}
    line = one_line_error(solti(missing, "vm", "list"))
    assert "PROXMOX_TOKEN_SECRET" in line and env["PROXMOX_TOKEN_SECRET"] not in line


def test_unreachable_proxmox_is_one_line(env: dict[str, str]) -> None:
    down = {**env, "PROXMOX_URL": "https://127.0.0.1:9"}
    line = one_line_error(solti(down, "template", "list"))
    assert "cannot reach" in line and env["PROXMOX_TOKEN_SECRET"] not in line


def test_solti_subprocess_json_and_exit_codes(env: dict[str, str], world: SimEnvironment) -> None:
    world.pve.state.add_vm(600, "plain")
    child_env = {**env, "PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ["PYTHONPATH"]}
    ok = subprocess.run([sys.executable, "-m", "solti.cli", "vm", "list", "--json"],
                        env=child_env, capture_output=True, text=True,
                        timeout=60)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert [v["vmid"] for v in json.loads(ok.stdout)] == [600]
    bad = subprocess.run([sys.executable, "-m", "solti.cli", "vm", "remove", "600"],
                         env=child_env, capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1
    assert sorted(world.pve.state.guests) == [600]


def test_template_build_all_summarises_and_survives_one_failure(
    env: dict[str, str], world: SimEnvironment
) -> None:
    from solti.provisioning.catalog import Catalog

    names = Catalog.load().names
    # The first distribution's download is refused; the others must still be built.
    world.pve.faults.http_errors(
        1, status=500, method="POST", path="/nodes/*/storage/*/download-url"
    )
    result = solti(env, "template", "build", "--all", "--json")
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [r["distribution"] for r in rows] == list(names)
    failed = [r for r in rows if r["result"] == "failed"]
    assert [r["distribution"] for r in failed] == [names[0]] and failed[0]["error"]
    built = [r for r in rows if r["result"] == "built"]
    assert len(built) == len(names) - 1 and len({r["vmid"] for r in built}) == len(built)
    assert f"1 of {len(names)} builds failed: {names[0]}" in result.stderr
    # Text mode: a summary table with one row per distribution, exit 0 when all succeed.
    again = solti(env, "template", "build", "--all")
    assert again.exit_code == 0, again.output
    assert "Template builds" in again.stdout
    assert all(name in again.stdout for name in names)


def test_lease_create_list_extend_and_sweep_json(
    env: dict[str, str], world: SimEnvironment, key: str, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(Path(env["SOLTI_CONFIG"]).read_text() + "\nleases: {default: 7d, max: 30d}\n")
    env = {**env, "SOLTI_CONFIG": str(policy)}
    world.pve.state.add_template(9000, "rocky9-template", disk_size="10G",
                                 tags=["solti", "template", "rocky9"])  # fmt: skip
    made = as_json(solti(env, "vm", "create", "rocky9", "--ssh-key", key, "--lease", "2d",
                         "--json"))  # fmt: skip
    assert made["vm"]["lease_expires_at"]
    refused = one_line_error(solti(env, "vm", "create", "rocky9", "--ssh-key", key,
                                   "--lease", "none"))  # fmt: skip
    assert "leases.exempt" in refused
    listed = as_json(solti(env, "vm", "list", "--json"))
    assert [(v["vmid"], v["owner"] is not None) for v in listed] == [(500, True)]
    first_end = listed[0]["lease_expires_at"]
    assert first_end.endswith("Z") or first_end.endswith("+00:00")
    extended = as_json(solti(env, "vm", "extend", "500", "3d", "--json"))
    assert extended["vmid"] == 500 and extended["lease_expires_at"] > first_end
    past = one_line_error(solti(env, "vm", "extend", "500", "4w"))
    assert "latest allowed end is" in past
    bad = one_line_error(solti(env, "vm", "extend", "500", "3days"))
    assert "30m, 12h, 7d or 2w" in bad
    due = as_json(solti(env, "lease", "sweep", "--as-of", "2099-01-01T00:00:00Z", "--dry-run",
                        "--json"))  # fmt: skip
    assert due["as_of"] == "2099-01-01T00:00:00Z"
    assert [(a["vmid"], a["action"]) for a in due["actions"]] == [(500, "stop")]
    assert set(due["actions"][0]) == {"vmid", "action", "owner", "lease_expires_at"}
    assert world.pve.state.guests[500].running
    done = as_json(solti(env, "lease", "sweep", "--as-of", "2099-01-01T00:00:00Z", "--json"))
    assert [a["action"] for a in done["actions"]] == ["stop"]
    assert not world.pve.state.guests[500].running
    again = solti(env, "lease", "sweep", "--as-of", "2099-01-01T00:00:00Z")
    assert again.exit_code == 0 and "0 action(s)" in again.stdout
