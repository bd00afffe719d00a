"""``status/current`` says whether the guest agent is enabled, as clients expect.

qemu-server ``src/PVE/API2/Qemu.pm`` ``vm_status``: ``$status->{agent} = 1 if
PVE::QemuServer::Agent::get_qga_key($conf, 'enabled')``, from the config alone (running or
not); the key is absent otherwise. The web UI and inventory tools read it to decide whether to
ask the agent for addresses.
"""

from __future__ import annotations

from typing import Any

import pytest

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE


@pytest.mark.parametrize(
    ("agent", "running", "expected"),
    [
        ("1", True, 1),
        ("enabled=1,fstrim_cloned_disks=1", True, 1),
        ("1", False, 1),
        ("0", True, None),
        ("enabled=0,type=virtio", True, None),
        (None, True, None),
    ],
)
def test_agent_flag_follows_the_config(
    pve: PveSimulator, api: Any, agent: str | None, running: bool, expected: int | None
) -> None:
    guest = pve.state.add_vm(100, running=running)
    if agent is None:
        guest.conf.pop("agent")
    else:
        guest.conf["agent"] = agent
    status = api.nodes(NODE).qemu(100).status.current.get()
    assert status.get("agent") == expected
    assert status["status"] == ("running" if running else "stopped")
