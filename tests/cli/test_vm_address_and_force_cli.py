"""`solti vm create` prints how to log in; `vm shutdown --force` falls back to a hard stop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from solti.sandbox.environment import SimEnvironment
from tests.cli.clihelpers import solti
from tests.helpers.keys import new_ssh_key
from tests.helpers.worlds import fresh_world, solti_env


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    fresh_world(world, rrd_lag=True)
    return solti_env(world, tmp_path)


def _create(env: dict[str, str], *args: str) -> Any:
    """``solti vm create rocky9`` with a fresh key and ``args``."""
    return solti(env, "vm", "create", "rocky9", "--ssh-key", new_ssh_key(), *args)


def _agent_calls(world: SimEnvironment) -> int:
    return sum(1 for r in world.pve.requests if "/agent/" in r.path)


def test_create_prints_the_ssh_line_from_the_guest_agent(
    env: dict[str, str], world: SimEnvironment
) -> None:
    world.pve.faults.agent_boot(0)  # answers at once: this test is about the output
    done = _create(env)
    assert done.exit_code == 0, done.output
    assert "log in: ssh rocky@10.0.2.2" in done.stdout
    assert _agent_calls(world) == 1
    made = json.loads(_create(env, "--json").stdout)
    assert made["vm"]["vmid"] == 501 and made["vm"]["address"] == "10.0.2.3"


def test_create_with_a_static_ip_asks_nobody(env: dict[str, str], world: SimEnvironment) -> None:
    done = _create(env, "--ip", "192.0.2.9/24", "--gw", "192.0.2.1")
    assert done.exit_code == 0, done.output
    assert "log in: ssh rocky@192.0.2.9" in done.stdout
    assert _agent_calls(world) == 0


def test_create_says_where_to_look_when_no_address_comes(
    env: dict[str, str], world: SimEnvironment
) -> None:
    world.pve.faults.agent_boot(None)  # no qemu-guest-agent in the image
    done = _create(env, "--address-wait", "1")
    assert done.exit_code == 0, done.output
    assert (
        "log in: no address reported by the guest agent after 1 s; find the address in the "
        "Proxmox console (VMID 500)"
    ) in done.stdout
    assert _agent_calls(world) >= 2  # polled, not asked once
    skipped = _create(env, "--address-wait", "0")
    assert "address lookup is off" in skipped.stdout
    bad = _create(env, "--address-wait", "-3")
    assert bad.exit_code == 2 and "--address-wait" in bad.stderr


def test_verify_shows_the_address(env: dict[str, str], world: SimEnvironment) -> None:
    world.pve.state.rrd_lag = 0
    world.pve.state.add_vm(500, "web", running=True, ciuser="rocky")
    done = solti(env, "vm", "verify", "500")
    assert done.exit_code == 0 and "address 10.0.2.2" in done.stdout
    listed = json.loads(solti(env, "vm", "list", "--addresses", "--json").stdout)
    assert [(v["vmid"], v["address"]) for v in listed] == [(500, "10.0.2.2")]


def test_shutdown_force_and_its_refusal(env: dict[str, str], world: SimEnvironment) -> None:
    world.pve.state.rrd_lag = 0
    world.pve.state.add_vm(500, "web", running=True, ciuser="rocky")
    world.pve.faults.ignore_acpi(500)
    refused = solti(env, "vm", "shutdown", "500", "--timeout", "0")
    assert refused.exit_code == 1
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in refused.stderr
    assert "got timeout" in lines[0] and "--force" in lines[0]
    forced = solti(env, "vm", "shutdown", "500", "--timeout", "0", "--force")
    assert forced.exit_code == 0, forced.output
    assert forced.stdout.strip() == (
        "VM 500 (web): stopped (the guest did not shut down within 0 s; it was stopped)"
    )
    bad = solti(env, "vm", "shutdown", "500", "--timeout", "-1")
    assert bad.exit_code == 2 and "--timeout" in bad.stderr
