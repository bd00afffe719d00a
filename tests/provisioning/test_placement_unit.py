"""Placement decided from ``/cluster/resources`` rows alone (``provisioning.placement``).

The rows are shaped as pve-manager ``PVE/API2/Cluster.pm`` ``resources`` answers them: node
rows with ``status``/``mem``/``maxmem``, one storage row per node the storage is enabled on
(``storage_check_enabled``) with ``shared``; the clone rule is qemu-server ``API2/Qemu.pm``
``clone_vm`` (``$check_storage_access_clone``).
"""

from __future__ import annotations

from typing import Any

import pytest

from solti.provisioning.cross_node import clone_refusal, storage_facts
from solti.provisioning.errors import InvalidRequest
from solti.provisioning.fleet_policy import PlacementPolicy
from solti.provisioning.placement import (
    GIB,
    check_asked_node,
    choose_node,
    gib,
    node_facts,
    reach_of,
    solti_vm_counts,
)

LABEL = "template 9000 (rocky9-template)"


def _node(name: str, used_gib: int, total_gib: int = 64, status: str = "online") -> dict[str, Any]:
    return {"type": "node", "node": name, "status": status, "mem": used_gib * GIB,
            "maxmem": total_gib * GIB}  # fmt: skip


def _storage(name: str, node: str, shared: bool) -> dict[str, Any]:
    return {"type": "storage", "storage": name, "node": node, "shared": int(shared)}


NODES = [_node("pve", 40), _node("pve2", 21), _node("pve3", 30)]
LOCAL = [_storage("local-lvm", n, False) for n in ("pve", "pve2", "pve3")]
SHARED = [*LOCAL, *(_storage("ceph", n, True) for n in ("pve", "pve2", "pve3"))]


def _choose(
    rows: list[dict[str, Any]],
    volumes: list[str],
    policy: PlacementPolicy | None = None,
    vms: list[dict[str, Any]] = (),  # type: ignore[assignment]
    memory: int = 2048,
) -> Any:
    nodes = node_facts(rows)
    reach = reach_of("pve", volumes, storage_facts(rows), nodes)
    counts = solti_vm_counts(vms)
    return choose_node(policy or PlacementPolicy(), nodes, reach, template_node="pve",
                       memory_mib=memory, solti_vms=counts, template_label=LABEL)  # fmt: skip


def test_most_free_memory_after_the_vm_and_the_reason_says_so() -> None:
    choice = _choose([*NODES, *SHARED], ["ceph"])
    assert choice.node == "pve2"
    assert (
        choice.reason
        == "pve2: 41 GiB free of 64 after this VM, the most of 3 nodes that can take it"
    )


def test_a_local_storage_template_can_only_stay_on_its_node() -> None:
    choice = _choose([*NODES, *SHARED], ["local-lvm"])
    assert choice.node == "pve"
    assert choice.reason == "pve: 22 GiB free of 64 after this VM; the only node that can take it"


def test_one_local_volume_makes_the_whole_template_local() -> None:
    """A cloud-init drive on local-lvm next to a disk on ceph: PVE says "VM uses local storage"."""
    assert _choose([*NODES, *SHARED], ["ceph", "local-lvm"]).node == "pve"


def test_a_shared_storage_serves_only_the_nodes_it_is_enabled_on() -> None:
    rows = [*NODES, *LOCAL, _storage("nfs", "pve", True), _storage("nfs", "pve3", True)]
    assert _choose(rows, ["nfs"]).node == "pve3"
    why = clone_refusal("pve", ["nfs"], storage_facts(rows), "pve2")
    assert why == "its disks are on nfs, shared storage not enabled on pve2"


def test_an_offline_node_is_never_chosen() -> None:
    rows = [_node("pve", 40), _node("pve2", 1, status="offline"), _node("pve3", 30), *SHARED]
    assert _choose(rows, ["ceph"]).node == "pve3"


def test_spread_takes_the_node_with_fewest_solti_vms_and_ignores_other_guests() -> None:
    vms = [
        {"vmid": 500, "node": "pve2", "tags": "solti;rocky9"},
        {"vmid": 501, "node": "pve2", "tags": "solti"},
        {"vmid": 502, "node": "pve3", "tags": "solti"},
        {"vmid": 9000, "node": "pve", "tags": "solti;template", "template": 1},
        {"vmid": 100, "node": "pve", "tags": "prod"},
        {"vmid": 101, "node": "pve", "tags": ""},
    ]
    choice = _choose([*NODES, *SHARED], ["ceph"], PlacementPolicy(strategy="spread"), vms)
    assert choice.node == "pve"
    assert choice.reason.startswith("pve: 0 solti VMs, the fewest of 3 nodes")


def test_fixed_keeps_the_template_node() -> None:
    choice = _choose([*NODES, *SHARED], ["ceph"], PlacementPolicy(strategy="fixed"))
    assert (choice.node, choice.reason) == ("pve", "pve: the template's node (placement fixed)")


def test_placement_nodes_and_exclude_narrow_the_choice() -> None:
    rows = [*NODES, *SHARED]
    assert _choose(rows, ["ceph"], PlacementPolicy(exclude=["pve2"])).node == "pve3"
    assert _choose(rows, ["ceph"], PlacementPolicy(nodes=["pve", "pve2"])).node == "pve2"


def test_when_no_node_can_take_it_every_node_says_why() -> None:
    rows = [_node("pve", 1, status="offline"), _node("pve2", 1), _node("pve3", 1), *LOCAL]
    with pytest.raises(InvalidRequest) as refused:
        _choose(rows, ["local-lvm"], PlacementPolicy(exclude=["pve3"]))
    text = str(refused.value)
    assert text.startswith(f"node: no node can take a clone of {LABEL}: ")
    assert "pve (offline (status 'offline' in /cluster/resources))" in text
    assert "pve2 (can't clone VM to node 'pve2' (VM uses local storage)" in text
    assert "pve3 (placement.exclude)" in text


@pytest.mark.parametrize(
    ("asked", "rows", "said"),
    [
        ("pve9", NODES, "node: 'pve9' is not a node of this cluster; nodes: pve, pve2, pve3"),
        (
            "pve2",
            [_node("pve", 1), _node("pve2", 1, status="unknown"), _node("pve3", 1)],
            "node: 'pve2' is offline (status 'unknown' in /cluster/resources); online nodes: "
            "pve, pve3, or leave --node out and let Solti choose",
        ),
        (
            "pve2",
            NODES,
            f"node: {LABEL} cannot be cloned to pve2: can't clone VM to node 'pve2' (VM uses local "
            "storage): its disks are on local-lvm, local storage of pve; FIX",
        ),
    ],
)
def test_asked_node_mistakes_are_one_sentence(
    asked: str, rows: list[dict[str, Any]], said: str
) -> None:
    nodes = node_facts(rows)
    reach = reach_of("pve", ["local-lvm"], storage_facts(LOCAL), nodes)
    with pytest.raises(InvalidRequest) as refused:
        check_asked_node(asked, nodes, reach, template_label=LABEL, fix="FIX")
    assert str(refused.value) == said
    assert refused.value.field == "node"


def test_asked_node_respects_the_policy_lists() -> None:
    nodes = node_facts(NODES)
    reach = reach_of("pve", ["ceph"], storage_facts(SHARED), nodes)
    policy = PlacementPolicy(exclude=["pve3"])
    with pytest.raises(InvalidRequest, match=r"^node: 'pve3' is excluded by placement\.exclude$"):
        check_asked_node("pve3", nodes, reach, template_label=LABEL, fix="", policy=policy)
    ok = check_asked_node("pve2", nodes, reach, template_label=LABEL, fix="", policy=policy)
    assert (ok.node, ok.reason) == ("pve2", "pve2: asked for with --node")


def test_a_target_storage_must_be_shared_for_another_node() -> None:
    facts = storage_facts(SHARED)
    assert clone_refusal("pve", ["ceph"], facts, "pve2", "local-lvm") == (
        "can't clone to non-shared storage 'local-lvm'"
    )
    assert clone_refusal("pve", ["ceph"], facts, "pve2", "ceph") is None
    assert clone_refusal("pve", ["local-lvm"], facts, "pve", "local-lvm") is None


def test_gib_for_people() -> None:
    assert (gib(41 * GIB), gib(int(2.5 * GIB)), gib(3 * GIB)) == ("41", "2.5", "3")


def test_policy_node_names_are_checked() -> None:
    with pytest.raises(ValueError, match="is not a node name"):
        PlacementPolicy(exclude=["pve 2"])
    with pytest.raises(ValueError):
        PlacementPolicy(strategy="random")  # type: ignore[arg-type]


def test_without_node_memory_in_the_rows_it_spreads_and_says_why() -> None:
    """No Sys.Audit on /nodes: PVE's node rows carry no mem/maxmem."""
    rows = [{"type": "node", "node": n, "status": "online"} for n in ("pve", "pve2")]
    vms = [{"vmid": 500, "node": "pve", "tags": "solti"}]
    choice = _choose([*rows, *SHARED], ["ceph"], vms=vms)
    assert choice.node == "pve2"
    assert "grant Sys.Audit on /nodes to place by memory" in choice.reason
