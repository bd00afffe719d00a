"""What read-only clients (exporters, inventory, discovery) read, as real PVE answers it.

Issue 11, "Real clients read more than the product does": each test names the handler it
follows.
"""

from __future__ import annotations

from typing import Any

import pytest
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE, run_ok


def test_cluster_status_lists_a_quorate_cluster_and_every_node(api: Any) -> None:
    """pve-manager ``PVE/API2/Cluster.pm`` ``get_status``: a ``cluster`` entry (quorate, node
    count) then one ``node`` entry per member with ``nodeid``, ``online``, ``local``, ``ip``."""
    rows = api.cluster.status.get()
    assert rows[0]["type"] == "cluster"
    assert rows[0]["quorate"] == 1
    assert rows[0]["nodes"] == 3
    nodes = {row["name"]: row for row in rows[1:]}
    assert sorted(nodes) == ["pve", "pve2", "pve3"]
    assert {row["online"] for row in nodes.values()} == {1}
    assert [row["name"] for row in rows[1:] if row["local"]] == ["pve"]
    assert nodes["pve2"]["ip"] == "192.168.100.12"


def test_a_single_node_has_no_cluster_entry() -> None:
    """``get_status`` without corosync members: the fake local entry, ``nodeid`` 0."""
    with PveSimulator(nodes=1) as single:
        rows = single.client().cluster.status.get()
    assert rows == [
        {
            "type": "node",
            "id": "node/pve",
            "name": "pve",
            "ip": "192.168.100.11",
            "local": 1,
            "nodeid": 0,
            "online": 1,
            "level": "",
        }
    ]


def test_node_rows_of_cluster_resources_carry_disk_but_no_fingerprint(api: Any) -> None:
    """pve-manager ``PVE/API2Tools.pm`` ``extract_node_stats`` sets ``disk``/``maxdisk``;
    only ``PVE/API2/Nodes.pm`` ``index`` (``GET /nodes``) adds ``ssl_fingerprint``."""
    resources = api.cluster.resources.get(type="node")
    assert {"disk", "maxdisk"} <= set(resources[0])
    assert "ssl_fingerprint" not in resources[0]
    assert "ssl_fingerprint" in api.nodes.get()[0]


def test_no_containers_no_replication_no_subscription(api: Any) -> None:
    """pve-container ``PVE/API2/LXC.pm`` ``vmlist`` and pve-manager ``Replication.pm``
    ``status`` list nothing; ``Subscription.pm`` ``get`` without a key says ``notfound``."""
    assert api.nodes(NODE).lxc.get() == []
    assert api.nodes(NODE).replication.get() == []
    assert api.cluster.replication.get() == []
    subscription = api.nodes(NODE).subscription.get()
    assert subscription["status"] == "notfound"
    assert subscription["message"] == "There is no subscription key"
    assert "serverid" in subscription


def test_subscription_hides_the_server_id_without_sys_audit(pve: PveSimulator, api: Any) -> None:
    """``Subscription.pm`` ``get``: the server ID only with ``Sys.Audit`` on the node."""
    pve.state.revoke_token_privileges("/", "Sys.Audit")
    assert "serverid" not in api.nodes(NODE).subscription.get()


def test_guests_not_backed_up_are_every_guest_the_token_may_audit(
    pve: PveSimulator, api: Any
) -> None:
    """pve-manager ``PVE/API2/Cluster/BackupInfo.pm`` ``get_guests_not_in_backup``: without
    backup jobs every guest (templates too), skipping those without ``VM.Audit``."""
    pve.state.add_vm(100, "web")
    pve.state.add_template(9000, "tpl")
    pve.state.add_vm(101, "secret")
    pve.state.set_token_privileges("/vms/101", {})
    rows = api.cluster("backup-info")("not-backed-up").get()
    assert rows == [
        {"vmid": 100, "type": "qemu", "name": "web"},
        {"vmid": 9000, "type": "qemu", "name": "tpl"},
    ]


def test_qdevice_status_is_empty_without_a_qdevice(api: Any) -> None:
    """pve-cluster ``PVE/API2/ClusterConfig.pm`` ``status``: ``{}`` without the socket."""
    assert api.cluster.config.qdevice.get() == {}


def test_agent_info_needs_a_running_agent(pve: PveSimulator, api: Any) -> None:
    """qemu-server ``PVE/API2/Qemu/Agent.pm`` ``register_command('info')``: the VM must
    exist and ``assert_agent_available`` pass; the answer is ``{result: guest-info}``."""
    pve.state.add_vm(100, "web", agent="1")
    with pytest.raises(ResourceException, match="VM 100 is not running"):
        api.nodes(NODE).qemu(100).agent.info.get()
    pve.faults.agent_boot(0)
    run_ok(api, api.nodes(NODE).qemu(100).status.start.post())
    info = api.nodes(NODE).qemu(100).agent.info.get()["result"]
    assert "guest-network-get-interfaces" in {c["name"] for c in info["supported_commands"]}


def test_node_status_storage_status_and_storage_config(api: Any) -> None:
    """pve-manager ``Nodes.pm`` ``status`` (memory and rootfs from the node's figures);
    pve-storage ``Status.pm`` ``read_status`` and ``Config.pm`` ``index``/``read``."""
    status = api.nodes(NODE).status.get()
    stats = api.cluster.resources.get(type="node")[0]
    assert status["memory"]["total"] == stats["maxmem"]
    assert status["rootfs"]["total"] == stats["maxdisk"]
    local_lvm = api.nodes(NODE).storage("local-lvm").status.get()
    assert local_lvm["type"] == "lvmthin"
    assert "storage" not in local_lvm
    assert {row["storage"] for row in api.storage.get()} == {"local", "local-lvm", "shared"}
    assert api.storage("local-lvm").get()["vgname"] == "pve"
    assert api.storage("shared").get()["shared"] == 1


def test_pending_lists_the_config_and_snapshot_list_only_current(
    pve: PveSimulator, api: Any
) -> None:
    """qemu-server ``Qemu.pm`` ``vm_pending`` (``config_with_pending_array``: nothing pending,
    digest included) and ``snapshot_list`` (only ``current``, "You are here!")."""
    pve.state.add_vm(100, "web")
    pending = {row["key"]: row for row in api.nodes(NODE).qemu(100).pending.get()}
    assert pending["name"] == {"key": "name", "value": "web"}
    assert "digest" in pending
    assert all("pending" not in row for row in pending.values())
    snapshots = api.nodes(NODE).qemu(100).snapshot.get()
    assert [s["name"] for s in snapshots] == ["current"]
    assert snapshots[0]["description"] == "You are here!"
