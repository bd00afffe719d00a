"""Cross-node creates are refused in the plan with PVE's own reason (issue 11, point 4).

qemu-server ``src/PVE/API2/Qemu.pm`` ``clone_vm`` / ``$check_storage_access_clone``: a VM with
any volume on local storage cannot be cloned to another node, even onto shared storage, and a
non-shared target storage is refused for another node. The plan says so before any write.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from solti.provisioning.config import ProxmoxSettings, load_policy
from solti.provisioning.errors import InvalidRequest
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[SimEnvironment]:
    with SimEnvironment(nodes=2, shared_storage=True) as env:
        yield env


@pytest.fixture
def planner(two_nodes: SimEnvironment, tmp_path: Path) -> Iterator[Provisioner]:
    two_nodes.reset()
    settings = ProxmoxSettings.from_env(two_nodes.env)
    yield Provisioner.from_settings(settings, load_policy(two_nodes.config_path), tmp_path / "a.db")
    two_nodes.reset()


def _template(world: SimEnvironment, storage: str) -> None:
    world.pve.state.add_template(
        9000, "rocky9-template", storage=storage, tags=["solti", "template", "rocky9"]
    )


def _writes(world: SimEnvironment) -> list[str]:
    return [r.path for r in world.pve.requests if r.method != "GET"]


def test_a_local_disk_template_cannot_go_to_another_node(
    planner: Provisioner, two_nodes: SimEnvironment, ssh_key: str
) -> None:
    _template(two_nodes, "local-lvm")
    request = {"template": 9000, "ssh_keys": [ssh_key], "node": "pve2", "full": True}
    with pytest.raises(InvalidRequest, match=r"can't clone VM to node 'pve2' \(VM uses local"):
        planner.create_vm({**request, "target_storage": "shared"})
    assert _writes(two_nodes) == []


def test_a_non_shared_target_storage_is_refused(
    planner: Provisioner, two_nodes: SimEnvironment, ssh_key: str
) -> None:
    _template(two_nodes, "shared")
    request = {"template": 9000, "ssh_keys": [ssh_key], "node": "pve2", "full": True}
    with pytest.raises(InvalidRequest, match="can't clone to non-shared storage 'local-lvm'"):
        planner.create_vm({**request, "target_storage": "local-lvm"})
    vm = planner.create_vm({**request, "target_storage": "shared"}).vm
    assert vm.node == "pve2"
