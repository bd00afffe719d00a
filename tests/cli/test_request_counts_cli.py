"""`solti vm create` plans once: 6 Proxmox requests besides task and guest-agent polls.

The budget the Slack create is held to (tests/bot/test_request_counts.py): one
``/cluster/resources``, one template config, clone, config, resize, start.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from solti.sandbox.environment import SimEnvironment
from tests.cli.clihelpers import solti
from tests.helpers.keys import new_ssh_key
from tests.helpers.worlds import fresh_world, solti_env


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    fresh_world(world, rrd_lag=True)
    return solti_env(world, tmp_path)


def test_cli_create_costs_six_requests(env: dict[str, str], world: SimEnvironment) -> None:
    start = len(world.pve.requests)
    done = solti(env, "vm", "create", "rocky9", "--ssh-key", new_ssh_key("ops@example"),
                 "--ip", "192.0.2.9/24", "--gw", "192.0.2.1")  # fmt: skip
    assert done.exit_code == 0, done.output
    made = [
        f"{r.method} {r.path}"
        for r in world.pve.requests[start:]
        if not ("/tasks/" in r.path and r.path.endswith("/status")) and "/agent/" not in r.path
    ]
    assert made == [
        "GET /cluster/resources",
        "GET /nodes/pve/qemu/9000/config",
        "POST /nodes/pve/qemu/9000/clone",
        "PUT /nodes/pve/qemu/500/config",
        "PUT /nodes/pve/qemu/500/resize",
        "POST /nodes/pve/qemu/500/status/start",
    ], made
