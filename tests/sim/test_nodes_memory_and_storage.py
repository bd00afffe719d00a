"""Per-node memory that follows running VMs, and storages enabled on some nodes only.

Sources: pve-manager ``PVE/API2Tools.pm`` ``extract_node_stats`` (``mem``/``maxmem`` of a
node row) and ``PVE/API2/Nodes.pm`` ``status`` (``memory``); pve-storage ``PVE/Storage.pm``
``storage_check_node`` / ``storage_check_enabled`` / ``storage_info`` / ``activate_storage``,
``PVE/API2/Storage/Status.pm`` ``index``; pve-manager ``PVE/API2/Cluster.pm`` ``resources``
(one storage row per node it is enabled on); qemu-server ``API2/Qemu.pm`` ``clone_vm``
(``$load_and_check``: ``storage_check_enabled`` on this node and on ``target``;
``check_node_exists``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE, run_ok, wait_task

GIB = 1024**3
BASE = 4 * GIB


@pytest.fixture(scope="module")
def sized() -> Iterator[PveSimulator]:
    """Nodes of different sizes, ``shared`` enabled on pve and pve2 only (from the start)."""
    with PveSimulator(
        nodes=3,
        shared_storage=True,
        node_memory={"pve": 64 * GIB, "pve2": 16 * GIB},
        storage_nodes={"shared": ["pve", "pve2"]},
    ) as pve:
        yield pve


def _node_mem(api: Any, node: str) -> tuple[int, int]:
    row = next(r for r in api.cluster.resources.get(type="node") if r["node"] == node)
    return row["mem"], row["maxmem"]


def test_node_memory_follows_the_vms_that_start_and_stop(pve: PveSimulator, api: Any) -> None:
    """``mem`` of a node = the host's base + the configured memory of its running VMs."""
    pve.state.add_vm(700, "big", node="pve2", memory="8192")
    pve.state.add_vm(701, "small", node="pve2", memory="2048", running=True)
    assert _node_mem(api, "pve2") == (BASE + 2 * GIB, 32 * GIB)
    run_ok(api, api.nodes("pve2").qemu(700).status.start.post(), "pve2")
    assert _node_mem(api, "pve2") == (BASE + 10 * GIB, 32 * GIB)
    memory = api.nodes("pve2").status.get()["memory"]
    assert (memory["used"], memory["free"]) == (BASE + 10 * GIB, 18 * GIB)
    run_ok(api, api.nodes("pve2").qemu(701).status.stop.post(), "pve2")
    assert _node_mem(api, "pve2") == (BASE + 8 * GIB, 32 * GIB)
    assert _node_mem(api, NODE) == (BASE, 32 * GIB)


def test_node_total_memory_is_configurable(sized: PveSimulator) -> None:
    sized.reset()
    api = sized.client()
    assert _node_mem(api, "pve") == (BASE, 64 * GIB)
    assert _node_mem(api, "pve2") == (BASE, 16 * GIB)
    assert _node_mem(api, "pve3") == (BASE, 32 * GIB)
    with pytest.raises(ValueError, match="no node pve7"):
        PveSimulator(nodes=2, node_memory={"pve7": GIB})


def test_a_storage_enabled_on_some_nodes_only(sized: PveSimulator) -> None:
    """``storage_info``: listed with ``enabled: 0`` and no sizes where it is not enabled,
    left out when a ``content`` filter is asked; ``resources`` has no row for that node;
    ``target`` lists shared storages enabled on both nodes."""
    sized.reset()
    api = sized.client()
    on_pve3 = {r["storage"]: r for r in api.nodes("pve3").storage.get()}
    assert (on_pve3["shared"]["enabled"], on_pve3["shared"]["active"]) == (0, 0)
    assert on_pve3["shared"]["total"] == 0 and on_pve3["local-lvm"]["enabled"] == 1
    assert "shared" not in {r["storage"] for r in api.nodes("pve3").storage.get(content="images")}
    assert api.nodes("pve2").storage.get(content="images", storage="shared")[0]["enabled"] == 1
    ids = {r["id"] for r in api.cluster.resources.get(type="storage")}
    assert {"storage/pve/shared", "storage/pve2/shared"} <= ids
    assert "storage/pve3/shared" not in ids
    assert [r["storage"] for r in api.nodes(NODE).storage.get(target="pve2")] == ["shared"]
    assert api.nodes(NODE).storage.get(target="pve3") == []


def test_a_full_clone_to_a_storage_not_on_the_target_is_refused(sized: PveSimulator) -> None:
    """``$load_and_check``: ``storage_check_enabled($storecfg, $storage, $target)``."""
    sized.reset()
    api = sized.client()
    sized.state.add_template(9000, "tpl", storage="shared")
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(9000).clone.post(newid=500, full=1, storage="shared", target="pve3")
    assert (info.value.status_code, info.value.content) == (
        500,
        "storage 'shared' is not available on node 'pve3'",
    )
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(9000).clone.post(newid=500, target="pve9")
    assert info.value.content == "no such cluster node 'pve9'"
    assert 500 not in {r["vmid"] for r in api.cluster.resources.get(type="vm")}


def test_a_linked_clone_lands_but_cannot_start_where_its_storage_is_not(
    sized: PveSimulator,
) -> None:
    """A linked clone with ``target`` is made by the source node (``vdisk_clone`` activates
    the storage there) and nothing asks the target; the start on the target activates the
    volumes (``activate_storage``) and fails."""
    sized.reset()
    api = sized.client()
    sized.state.add_template(9000, "tpl", storage="shared")
    run_ok(api, api.nodes(NODE).qemu(9000).clone.post(newid=500, target="pve3"))
    status = wait_task(api, api.nodes("pve3").qemu(500).status.start.post(), "pve3")
    assert status["exitstatus"] == "storage 'shared' is not available on node 'pve3'"
    run_ok(api, api.nodes(NODE).qemu(9000).clone.post(newid=501, target="pve2"))
    run_ok(api, api.nodes("pve2").qemu(501).status.start.post(), "pve2")


def test_a_create_on_a_node_without_the_storage_fails_in_its_task(sized: PveSimulator) -> None:
    """``create_vm``'s worker allocates with ``vdisk_alloc`` -> ``activate_storage``."""
    sized.reset()
    api = sized.client()
    status = wait_task(api, api.nodes("pve3").qemu.post(vmid=600, scsi0="shared:1"), "pve3")
    assert "storage 'shared' is not available on node 'pve3'" in status["exitstatus"]
    assert 600 not in {r["vmid"] for r in api.cluster.resources.get(type="vm")}


def test_storage_nodes_at_run_time_until_reset(pve: PveSimulator, api: Any) -> None:
    """``POST /_sim/storage`` sets storage.cfg ``nodes``; a reset goes back to the start."""

    def post(body: dict[str, Any]) -> requests.Response:
        return requests.post(f"{pve.url}/_sim/storage", json=body, verify=pve.ca_path, timeout=5)

    assert post({"storage": "shared", "nodes": ["pve"]}).status_code == 200
    enabled = {
        r["node"] for r in api.cluster.resources.get(type="storage") if r["storage"] == "shared"
    }
    assert enabled == {"pve"}
    bad = post({"storage": "nope", "nodes": ["pve"]})
    assert bad.status_code == 400 and "no storage 'nope'" in bad.json()["error"]
    bad = post({"storage": "shared", "nodes": ["pve9"]})
    assert bad.status_code == 400 and "no node 'pve9'" in bad.json()["error"]
    assert post({"storage": "shared", "nodes": "pve"}).status_code == 400
    pve.reset()
    enabled = {
        r["node"] for r in api.cluster.resources.get(type="storage") if r["storage"] == "shared"
    }
    assert enabled == {"pve", "pve2", "pve3"}
