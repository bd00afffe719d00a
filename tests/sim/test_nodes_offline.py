"""A node that goes offline and comes back, as PVE shows and answers it.

Sources: pve-manager ``PVE/API2Tools.pm`` ``extract_node_stats`` / ``extract_vm_stats`` /
``extract_storage_stats`` and ``PVE/API2/Cluster.pm`` ``resources`` / ``get_status`` (what a
member that is not ``online`` looks like); pve-cluster ``src/pmxcfs/status.c``
``rrd_entry_is_old`` (its RRD entries expire after five minutes); pve-manager
``PVE/HTTPServer.pm`` ``rest_handler`` and pve-http-server ``PVE/APIServer/AnyEvent.pm``
``proxy_request`` (a request for another node is proxied; unreachable: AnyEvent::HTTP's 595);
qemu-server ``API2/Qemu.pm`` ``clone_vm`` (``check_node_exists`` only, then
``check_cfs_quorum``) and pve-cluster ``PVE/Cluster.pm`` ``check_cfs_quorum``.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE, run_ok

RRD_EXPIRE = 300


def _post_fault(pve: PveSimulator, spec: dict[str, Any]) -> requests.Response:
    return requests.post(f"{pve.url}/_sim/faults", json=spec, verify=pve.ca_path, timeout=5)


def _node_row(api: Any, node: str) -> dict[str, Any]:
    return next(r for r in api.cluster.resources.get(type="node") if r["node"] == node)


def test_an_offline_node_keeps_only_its_max_figures_then_only_its_id(
    pve: PveSimulator, api: Any
) -> None:
    """``extract_node_stats``: not online -> ``status: offline`` and none of ``uptime``,
    ``cpu``, ``mem``, ``disk``; ``level`` and ``max*`` while the RRD entry lasts (5 min)."""
    pve.clock.freeze()
    assert _post_fault(pve, {"node_offline": "pve2"}).status_code == 200
    row = _node_row(api, "pve2")
    assert row["status"] == "offline"
    assert not {"uptime", "cpu", "mem", "disk"} & set(row)
    assert row["maxmem"] == 32 * 1024**3
    assert _node_row(api, "pve")["status"] == "online"
    pve.advance(RRD_EXPIRE + 1)
    assert _node_row(api, "pve2") == {
        "id": "node/pve2",
        "node": "pve2",
        "type": "node",
        "status": "offline",
    }
    listed = {r["node"]: r for r in api.nodes.get()}
    assert listed["pve2"]["status"] == "offline" and "ssl_fingerprint" in listed["pve2"]


def test_the_vms_and_storages_of_an_offline_node_lose_their_figures_when_the_rrd_expires(
    pve: PveSimulator, api: Any
) -> None:
    """The VM rows stay (the configs are in /etc/pve) with their last RRD figures, then
    bare ``status: unknown``; storages of the node then ``status: unknown`` without sizes."""
    pve.state.add_vm(700, "web", node="pve2", running=True, tags="team-a")
    pve.clock.freeze()
    pve.node_offline("pve2")
    vm = next(r for r in api.cluster.resources.get(type="vm") if r["vmid"] == 700)
    assert (vm["node"], vm["status"], vm["name"]) == ("pve2", "running", "web")
    pve.advance(RRD_EXPIRE + 1)
    vm = next(r for r in api.cluster.resources.get(type="vm") if r["vmid"] == 700)
    assert vm == {
        "id": "qemu/700",
        "type": "qemu",
        "vmid": 700,
        "node": "pve2",
        "status": "unknown",
        "tags": "team-a",
    }
    storages = {r["id"]: r for r in api.cluster.resources.get(type="storage")}
    assert storages["storage/pve2/local-lvm"]["status"] == "unknown"
    assert "maxdisk" not in storages["storage/pve2/local-lvm"]
    assert storages["storage/pve/local-lvm"]["status"] == "available"


def test_requests_for_an_offline_node_fail_as_the_proxy_does(pve: PveSimulator, api: Any) -> None:
    """``rest_handler`` proxies ``/nodes/pve2/...`` to pve2; the connection fails and
    ``proxy_request`` passes AnyEvent::HTTP's 595 and its reason on, with no body."""
    pve.node_offline("pve2")
    with pytest.raises(ResourceException) as info:
        api.nodes("pve2").qemu.get()
    # proxmoxer knows AnyEvent::HTTP's 595 by name; the reason phrase is the socket error.
    assert info.value.status_code == 595
    assert info.value.status_message == "Errors during connection establishment, proxy handshake"
    assert info.value.content == "No route to host"
    raw = requests.get(
        f"{pve.url}/api2/json/nodes/pve2/status",
        headers={"Authorization": f"PVEAPIToken={pve.token_id}={pve.token_secret}"},
        verify=pve.ca_path,
        timeout=5,
    )
    assert (raw.status_code, raw.reason, raw.content) == (595, "No route to host", b"")
    assert [r.status for r in pve.requests if r.path == "/nodes/pve2/qemu"] == [595]
    assert api.nodes("pve3").qemu.get() == []


def test_a_node_back_online_has_rebooted(pve: PveSimulator, api: Any) -> None:
    """Back from a power loss: its VMs are stopped, except ``onboot: 1`` ones (pve-manager
    ``PVE/API2/Nodes.pm`` ``startall`` at boot)."""
    pve.state.add_vm(700, "plain", node="pve2", running=True)
    pve.state.add_vm(701, "boots", node="pve2", running=True, onboot="1")
    pve.node_offline("pve2")
    assert _post_fault(pve, {"node_online": "pve2"}).status_code == 200
    assert _node_row(api, "pve2")["status"] == "online"
    status = {vm["vmid"]: vm["status"] for vm in api.nodes("pve2").qemu.get()}
    assert status == {700: "stopped", 701: "running"}


def test_a_clone_onto_an_offline_node_is_accepted_and_the_next_step_fails(
    pve: PveSimulator, api: Any
) -> None:
    """``clone_vm`` only asks ``check_node_exists`` of the target: with shared storage and
    quorum the clone runs on the source node and its config moves to the offline node;
    configuring it there is then a request proxied to that node: 595."""
    pve.state.add_template(9000, "tpl", storage="shared")
    pve.node_offline("pve3")
    run_ok(api, api.nodes(NODE).qemu(9000).clone.post(newid=500, target="pve3"))
    vm = next(r for r in api.cluster.resources.get(type="vm") if r["vmid"] == 500)
    assert vm["node"] == "pve3"
    with pytest.raises(ResourceException) as info:
        api.nodes("pve3").qemu(500).config.put(cores=2)
    assert info.value.status_code == 595


def test_without_quorum_clones_and_creates_are_refused(pve: PveSimulator, api: Any) -> None:
    """Two of three nodes down: corosync has no quorum, /etc/pve is read-only and
    ``check_cfs_quorum`` dies before ``clone_vm`` or ``create_vm`` does anything."""
    pve.state.add_template(9000, "tpl", storage="shared")
    pve.node_offline("pve2")
    pve.node_offline("pve3")
    status = api.cluster.status.get()
    assert next(r for r in status if r["type"] == "cluster")["quorate"] == 0
    assert {r["name"]: r["online"] for r in status if r["type"] == "node"} == {
        "pve": 1,
        "pve2": 0,
        "pve3": 0,
    }
    for call in (
        lambda: api.nodes(NODE).qemu(9000).clone.post(newid=500),
        lambda: api.nodes(NODE).qemu.post(vmid=501, memory=512),
    ):
        with pytest.raises(ResourceException) as info:
            call()
        assert (info.value.status_code, info.value.content) == (
            500,
            "cluster not ready - no quorum?",
        )
    assert {vm["vmid"] for vm in api.cluster.resources.get(type="vm")} == {9000}


def test_clear_brings_every_node_back_and_the_last_node_cannot_go(
    pve: PveSimulator, api: Any
) -> None:
    pve.node_offline("pve2")
    pve.node_offline("pve3")
    refused = _post_fault(pve, {"kind": "node_offline", "node": "pve"})
    assert refused.status_code == 400
    assert "last one online" in refused.json()["error"]
    unknown = _post_fault(pve, {"node_offline": "pve9"})
    assert unknown.status_code == 400 and "no node 'pve9'" in unknown.json()["error"]
    assert _post_fault(pve, {"kind": "clear"}).status_code == 200
    assert {r["status"] for r in api.cluster.resources.get(type="node")} == {"online"}


def test_the_first_node_offline_moves_the_answering_node(pve: PveSimulator, api: Any) -> None:
    """The client reaches a node that is up: ``local`` in ``/cluster/status`` follows it."""
    pve.node_offline(NODE)
    local = [r["name"] for r in api.cluster.status.get() if r.get("local")]
    assert local == ["pve2"]
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).storage.get()
    assert info.value.status_code == 595
