"""Placement against a simulated three-node cluster, on local and on shared storage.

`solti sim pve --nodes 3` keeps every disk on each node's own ``local-lvm``: only the
template's node can take a clone (qemu-server ``API2/Qemu.pm`` ``clone_vm``: "can't clone VM
to node … (VM uses local storage)"), unless a copy of the build is on the other nodes;
`--shared-storage` adds the ``shared`` NFS storage every node sees, and creates spread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from solti.provisioning.config import ProxmoxSettings, load_policy
from solti.provisioning.errors import InvalidRequest
from solti.provisioning.fleet_policy import PlacementPolicy
from solti.provisioning.notes import render_notes
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment

TAGS = ["solti", "template", "rocky9"]


@pytest.fixture(scope="module")
def local3() -> Iterator[SimEnvironment]:
    with SimEnvironment(nodes=3) as env:
        yield env


@pytest.fixture(scope="module")
def shared3() -> Iterator[SimEnvironment]:
    with SimEnvironment(nodes=3, shared_storage=True) as env:
        yield env


def _provisioner(world: SimEnvironment, tmp_path: Path) -> Provisioner:
    world.reset()
    world.pve.state.rrd_lag = 0
    settings = ProxmoxSettings.from_env(world.env)
    return Provisioner.from_settings(settings, load_policy(world.config_path), tmp_path / "a.db")


def _notes(version: str, checksum: str) -> str:
    return render_notes({"distribution": "rocky9", "version": version, "checksum": checksum,
                         "checksum_algorithm": "sha256"})  # fmt: skip


def _template(world: SimEnvironment, vmid: int, node: str = "pve", storage: str = "local-lvm",
              version: str = "9.6-20261101", checksum: str = "ab" * 32) -> None:  # fmt: skip
    world.pve.state.add_template(vmid, "rocky9-template", node=node, storage=storage, tags=TAGS,
                                 description=_notes(version, checksum))  # fmt: skip


def _on_shared(world: SimEnvironment, tmp_path: Path) -> Provisioner:
    """``_provisioner`` on the shared-storage cluster, the rocky9 build 9000 on ``shared``
    (every node can clone it)."""
    p = _provisioner(world, tmp_path)
    _template(world, 9000, storage="shared")
    return p


def _writes(world: SimEnvironment, start: int = 0) -> list[str]:
    return [f"{r.method} {r.path}" for r in world.pve.requests[start:] if r.method != "GET"]


def _create(p: Provisioner, key: str, **extra: Any) -> Any:
    return p.create_vm({"template": "rocky9", "ssh_keys": [key], **extra})


def test_local_storage_keeps_every_vm_on_the_template_node(
    local3: SimEnvironment, tmp_path: Path, ssh_key: str
) -> None:
    p = _provisioner(local3, tmp_path)
    _template(local3, 9000)
    plan = p.plan_vm({"template": "rocky9", "ssh_keys": [ssh_key]})
    assert plan.node == "pve"
    assert plan.placement == (
        "pve: 26 GiB free of 32 after this VM; the only node that can take it"
    )
    made = [_create(p, ssh_key).vm.node for _ in range(2)]
    assert made == ["pve", "pve"]


def test_asking_for_a_node_the_template_cannot_reach_is_refused_before_anything(
    local3: SimEnvironment, tmp_path: Path, ssh_key: str
) -> None:
    p = _provisioner(local3, tmp_path)
    _template(local3, 9000)
    start = len(local3.pve.requests)
    with pytest.raises(InvalidRequest) as refused:
        _create(p, ssh_key, node="pve2")
    assert str(refused.value) == (
        "node: template 9000 (rocky9-template) cannot be cloned to pve2: can't clone VM to node "
        "'pve2' (VM uses local storage): its disks are on local-lvm, local storage of pve; put "
        "the template on storage shared with pve2, or build a copy there: "
        "`solti template build rocky9 --node pve2`"
    )
    with pytest.raises(InvalidRequest, match=r"^node: 'pve7' is not a node of this cluster; nodes: "
                       "pve, pve2, pve3$"):  # fmt: skip
        _create(p, ssh_key, node="pve7")
    assert _writes(local3, start) == []
    refusals = p.audit.query(action="vm create", result="failed", limit=None)
    assert len(refusals) == 2  # each refusal is recorded (the plan step), nothing else was
    assert any("cannot be cloned to pve2" in (r.error or "") for r in refusals)


def test_copies_on_every_node_spread_the_vms_each_from_its_own_copy(
    local3: SimEnvironment, tmp_path: Path, ssh_key: str
) -> None:
    p = _provisioner(local3, tmp_path)
    for vmid, node in ((9000, "pve"), (9001, "pve2"), (9002, "pve3")):
        _template(local3, vmid, node)
    made = [_create(p, ssh_key) for _ in range(3)]
    assert sorted((r.vm.node, r.vm.template_vmid) for r in made) == [
        ("pve", 9000), ("pve2", 9001), ("pve3", 9002),
    ]  # fmt: skip
    assert not [r for r in local3.pve.requests if r.params.get("target")]
    moved = next(r for r in made if r.vm.node != "pve")
    assert moved.plan is not None and moved.plan.placement is not None
    assert f"from its copy, VMID {moved.vm.template_vmid}" in moved.plan.placement
    asked = _create(p, ssh_key, node="pve3")
    assert (asked.vm.node, asked.vm.template_vmid) == ("pve3", 9002)


def test_an_older_build_on_a_node_is_not_taken_for_a_copy(
    local3: SimEnvironment, tmp_path: Path, ssh_key: str
) -> None:
    p = _provisioner(local3, tmp_path)
    _template(local3, 9000, "pve2", version="9.5-20260101", checksum="cd" * 32)
    _template(local3, 9001, "pve")
    local3.pve.state.add_vm(600, "busy", node="pve", tags=["solti"])  # pve2 would win a spread
    result = _create(p, ssh_key)
    assert (result.vm.node, result.vm.template_vmid) == ("pve", 9001)
    assert (
        "'pve2' holds VMID 9000, not a copy of build rocky9 9.6-20261101" in result.plan.placement
    )
    with pytest.raises(InvalidRequest, match="'pve2' holds VMID 9000, not a copy of build"):
        _create(p, ssh_key, node="pve2")


def test_shared_storage_spreads_creates_over_all_three_nodes(
    shared3: SimEnvironment, tmp_path: Path, ssh_key: str
) -> None:
    p = _on_shared(shared3, tmp_path)
    made = [_create(p, ssh_key) for _ in range(3)]
    assert sorted(r.vm.node for r in made) == ["pve", "pve2", "pve3"]
    for r in made:
        assert shared3.pve.state.guests[r.vm.vmid].node == r.vm.node
        assert r.plan.placement.startswith(f"{r.vm.node}: ")
    records = p.audit.query(action="vm create", result="ok", limit=None)
    assert sorted(r.params["placement"].split(":")[0] for r in records) == ["pve", "pve2", "pve3"]
    clones = [r for r in shared3.pve.requests if r.path.endswith("/clone")]
    assert sorted(str(r.params.get("target")) for r in clones) == ["None", "pve2", "pve3"]


def test_policy_fixed_and_exclude(shared3: SimEnvironment, tmp_path: Path, ssh_key: str) -> None:
    p = _on_shared(shared3, tmp_path)
    fleet = p.ops.fleet
    p.ops.fleet = dataclasses.replace(fleet, placement=PlacementPolicy(strategy="fixed"))
    assert [_create(p, ssh_key).vm.node for _ in range(2)] == ["pve", "pve"]
    p.ops.fleet = dataclasses.replace(fleet, placement=PlacementPolicy(exclude=["pve", "pve2"]))
    assert _create(p, ssh_key).vm.node == "pve3"
    with pytest.raises(InvalidRequest, match=r"^node: 'pve2' is excluded by placement\.exclude$"):
        _create(p, ssh_key, node="pve2")


def test_the_plan_costs_no_request_per_node(
    shared3: SimEnvironment, tmp_path: Path, ssh_key: str
) -> None:
    """Three nodes, the plan reads what it read on one: one snapshot, one template config."""
    p = _on_shared(shared3, tmp_path)
    start = len(shared3.pve.requests)
    plan = p.plan_vm({"template": "rocky9", "ssh_keys": [ssh_key], "name": "counted"})
    made = [f"{r.method} {r.path}" for r in shared3.pve.requests[start:]]
    assert made == ["GET /cluster/resources", "GET /nodes/pve/qemu/9000/config"], made
    assert plan.node == "pve"  # equal nodes, no solti VMs yet: the first by name


def test_a_count_set_is_placed_one_by_one(
    shared3: SimEnvironment, local3: SimEnvironment, tmp_path: Path, ssh_key: str
) -> None:
    """`--count 6`: each VM placed seeing the ones planned before it (two per node); on
    local storage with copies, each from its node's copy, read once per node."""
    p = _on_shared(shared3, tmp_path)
    plans = p.plan_vms({"template": "rocky9", "ssh_keys": [ssh_key], "name": "lab"}, 6)
    assert sorted(plan.node for plan in plans) == ["pve", "pve", "pve2", "pve2", "pve3", "pve3"]
    q = _provisioner(local3, tmp_path / "local")
    for vmid, node in ((9000, "pve"), (9001, "pve2"), (9002, "pve3")):
        _template(local3, vmid, node)
    start = len(local3.pve.requests)
    plans = q.plan_vms({"template": "rocky9", "ssh_keys": [ssh_key], "name": "lab"}, 6)
    assert sorted((plan.node, plan.template.vmid) for plan in plans) == [
        ("pve", 9000), ("pve", 9000), ("pve2", 9001), ("pve2", 9001),
        ("pve3", 9002), ("pve3", 9002),
    ]  # fmt: skip
    configs = [r.path for r in local3.pve.requests[start:] if r.path.endswith("/config")]
    # the latest (9002) and the two other copies, each once for the six
    assert sorted(configs) == [
        "/nodes/pve/qemu/9000/config", "/nodes/pve2/qemu/9001/config",
        "/nodes/pve3/qemu/9002/config",
    ]  # fmt: skip
