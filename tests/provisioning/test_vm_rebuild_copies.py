"""`vm rebuild` of a VM on another node of a local-storage cluster: it is re-made from the
new build's copy on its own node (``template build --all-nodes``), since PVE refuses a clone
of a local template to another node (qemu-server ``API2/Qemu.pm`` ``clone_vm``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from solti.provisioning import ProxmoxSettings, load_policy
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment
from tests.helpers.worlds import seed_build


@pytest.fixture(scope="module")
def two() -> Iterator[SimEnvironment]:
    with SimEnvironment(nodes=2) as env:
        yield env


def test_a_rebuild_on_pve2_clones_the_copy_of_the_new_build_on_pve2(
    two: SimEnvironment, tmp_path: Path, ssh_key: str
) -> None:
    two.reset()
    two.pve.state.rrd_lag = 0
    p = Provisioner.from_settings(ProxmoxSettings.from_env(two.env), load_policy(two.config_path),
                                  tmp_path / "audit.db")  # fmt: skip
    seed_build(two, 9000, "9.6-20261101", node="pve2")
    made = p.create_vm({"template": "rocky9", "ssh_keys": [ssh_key], "node": "pve2"},
                       actor="alice", via="cli")  # fmt: skip
    assert made.vm.node == "pve2"
    seed_build(two, 9001, "9.7-20261201", day=30, node="pve2")  # the new build's copy on pve2
    seed_build(two, 9002, "9.7-20261201", day=30)  # ... and on pve (the highest VMID)
    result = p.rebuild_vm(made.vm.vmid, actor="alice", via="cli")
    assert result.vm.template_version == "9.7-20261201"
    assert result.vm.template_vmid == 9001 and result.vm.node == "pve2"
    clones = [r.path for r in two.pve.requests if r.method == "POST" and r.path.endswith("/clone")]
    assert clones[-1] == "/nodes/pve2/qemu/9001/clone"
