"""GET answers built from the simulator's model: RRD rows, guest agent reads, cloud-init.

Issue 11 ("every GET path answers"): each answer follows the handler its module names;
these tests pin the parts that depend on state.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

import pytest
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE, run_ok


def test_vm_rrddata_memory_follows_a_started_vm(pve: PveSimulator, api: Any) -> None:
    """pve-cluster ``RRD.pm`` ``create_rrd_data``: ``hour`` is 60 rows a minute apart, each
    with the ``pve-vm-9.0`` data sources; ``mem`` is 0 stopped and the guest's use running."""
    pve.state.add_vm(150, "db", memory="4096")
    vm = api.nodes(NODE).qemu(150)
    stopped = vm.rrddata.get(timeframe="hour")
    assert len(stopped) == 60
    assert stopped[1]["time"] - stopped[0]["time"] == 60
    assert {row["mem"] for row in stopped} == {0}
    assert stopped[-1]["maxmem"] == 4096 * 1024**2
    run_ok(api, vm.status.start.post())
    running = vm.rrddata.get(timeframe="hour")
    assert running[-1]["mem"] > 0
    assert running[-1]["maxcpu"] == 2


def test_node_rrddata_memory_counts_the_running_vms(pve: PveSimulator, api: Any) -> None:
    """``pve-node-9.0`` rows: ``memused`` grows by a started VM's memory; ``week`` steps are
    30 minutes, 336 rows."""
    before = api.nodes(NODE).rrddata.get(timeframe="week")
    assert len(before) == 336
    assert before[1]["time"] - before[0]["time"] == 1800
    pve.state.add_vm(151, "big", memory="8192", running=True)
    after = api.nodes(NODE).rrddata.get(timeframe="week")
    assert after[-1]["memused"] - before[-1]["memused"] == 8192 * 1024**2
    assert after[-1]["memavailable"] == after[-1]["memtotal"] - after[-1]["memused"]


def test_storage_rrddata_reports_the_storage_use(pve: PveSimulator, api: Any) -> None:
    """``pve-storage-9.0`` rows carry ``total`` and ``used`` as the storage status has them."""
    pve.state.add_vm(152, "disk", disk_size="10G")
    status = api.nodes(NODE).storage("local-lvm").status.get()
    rows = api.nodes(NODE).storage("local-lvm").rrddata.get(timeframe="hour")
    assert rows[-1]["used"] == status["used"]
    assert rows[-1]["total"] == status["total"]


def test_agent_reads_follow_the_vm_config(pve: PveSimulator, api: Any) -> None:
    """qemu-server ``API2/Qemu/Agent.pm``: ``{result: ...}`` of QGA; the host name is the
    name cloud-init set, one vCPU per core, 128 MiB memory blocks over the VM's memory."""
    pve.state.add_vm(153, "web-1", running=True, cores="4", memory="1024")
    agent = api.nodes(NODE).qemu(153).agent
    assert agent("get-host-name").get() == {"result": {"host-name": "web-1"}}
    cpus = agent("get-vcpus").get()["result"]
    assert [cpu["logical-id"] for cpu in cpus] == [0, 1, 2, 3]
    assert len(agent("get-memory-blocks").get()["result"]) == 8
    assert agent("get-osinfo").get()["result"]["id"] == "debian"


def test_agent_reads_fail_as_pve_does_on_a_stopped_vm(pve: PveSimulator, api: Any) -> None:
    """``assert_agent_available``: a stopped VM is "not running" before any agent call."""
    pve.state.add_vm(154, "off")
    with pytest.raises(ResourceException) as failed:
        api.nodes(NODE).qemu(154).agent("get-host-name").get()
    assert "VM 154 is not running" in str(failed.value)


def test_cloudinit_dump_writes_what_the_nocloud_generator_writes(
    pve: PveSimulator, api: Any
) -> None:
    """qemu-server ``QemuServer/Cloudinit.pm``: ``cloudinit_userdata`` (hostname, user,
    keys, ``package_upgrade`` unless ``ciupgrade=0``), ``nocloud_network`` (static address
    with a dotted netmask, nameserver from the host), ``nocloud_gen_metadata`` (SHA1 of both)."""
    key = "ssh-ed25519 AAAAC3Nza alice@example"
    pve.state.add_vm(
        155,
        "app",
        ciuser="alice",
        ciupgrade="0",
        sshkeys=quote(key + "\n", safe=""),
        ipconfig0="ip=10.0.0.5/24,gw=10.0.0.1",
    )
    vm = api.nodes(NODE).qemu(155)
    user = vm.cloudinit.dump.get(type="user")
    assert user.startswith("#cloud-config\nhostname: app\nmanage_etc_hosts: true\nfqdn: app\n")
    assert "user: alice\n" in user
    assert f"ssh_authorized_keys:\n  - {key}\n" in user
    assert "package_upgrade" not in user
    network = vm.cloudinit.dump.get(type="network")
    assert "name: eth0" in network
    assert "address: '10.0.0.5'\n" in network and "netmask: '255.255.255.0'\n" in network
    assert "gateway: '10.0.0.1'\n" in network
    meta = vm.cloudinit.dump.get(type="meta")
    assert meta == f"instance-id: {hashlib.sha1((user + network).encode()).hexdigest()}\n"


def test_cloudinit_pending_lists_the_set_options_masking_the_password(
    pve: PveSimulator, api: Any
) -> None:
    """qemu-server ``API2/Qemu.pm`` ``cloudinit_pending``: the set ``$cloudinitoptions``,
    ``cipassword`` masked."""
    pve.state.add_vm(156, "ci", ciuser="bob", cipassword="secret")
    rows = api.nodes(NODE).qemu(156).cloudinit.get()
    assert {"key": "ciuser", "value": "bob"} in rows
    assert {"key": "cipassword", "value": "**********"} in rows
    assert "secret" not in str(rows)


def test_builtin_notification_target_and_matcher(api: Any) -> None:
    """proxmox-notify ``context/pve.rs`` ``DEFAULT_CONFIG``: ``mail-to-root`` and
    ``default-matcher``, both ``origin: builtin``."""
    targets = api.cluster.notifications.targets.get()
    assert [(t["name"], t["type"], t["origin"]) for t in targets] == [
        ("mail-to-root", "sendmail", "builtin")
    ]
    [matcher] = api.cluster.notifications.matchers.get()
    assert matcher["target"] == ["mail-to-root"] and matcher["mode"] == "all"


def test_corosync_nodes_list_every_member(api: Any) -> None:
    """pve-cluster ``ClusterConfig.pm`` ``nodes``: one corosync node section per member."""
    rows = api.cluster.config.nodes.get()
    assert [row["node"] for row in rows] == ["pve", "pve2", "pve3"]
    assert rows[1]["ring0_addr"] == "192.168.100.12"


def test_feature_follows_the_storage_of_each_disk(pve: PveSimulator, api: Any) -> None:
    """qemu-server ``vm_feature``: lvmthin snapshots a current volume but clones only a base
    one (``LvmThinPlugin.pm`` ``volume_has_feature``); a VM on local storage is reachable
    from its own node only (``shared_nodes``)."""
    pve.state.add_vm(157, "thin")
    vm = api.nodes(NODE).qemu(157)
    assert vm.feature.get(feature="snapshot") == {"hasFeature": 1, "nodes": [NODE]}
    assert vm.feature.get(feature="clone")["hasFeature"] == 0
    pve.state.add_template(158, "tpl")
    assert api.nodes(NODE).qemu(158).feature.get(feature="clone")["hasFeature"] == 1
    pve.state.add_vm(159, "nfs", storage="shared", cloudinit=False)
    shared = api.nodes(NODE).qemu(159).feature.get(feature="snapshot")
    assert shared["nodes"] == ["pve", "pve2", "pve3"]


def test_cpu_models_list_qemu_models_host_and_the_abstract_levels(api: Any) -> None:
    """qemu-server ``CPUConfig.pm`` ``get_cpu_models``: QEMU's models with their vendor,
    ``host``, and the ``x86-64-v2``..``v4`` levels flagged ``abstract``; no custom models."""
    rows = {row["name"]: row for row in api.nodes(NODE).capabilities.qemu.cpu.get()}
    assert rows["EPYC-Genoa"]["vendor"] == "AuthenticAMD"
    assert rows["host"] == {"name": "host", "custom": 0, "vendor": "default"}
    assert rows["x86-64-v2-AES"]["abstract"] == 1
    assert not [name for name, row in rows.items() if row["custom"]]


def test_migrate_precondition_lists_local_disks_and_allowed_nodes(
    pve: PveSimulator, api: Any
) -> None:
    """qemu-server ``migrate_vm_precondition``: a running VM on local-lvm may go to every
    other node (local disks move with it) and lists its disk and cloud-init drive."""
    pve.state.add_vm(160, "mig", running=True)
    answer = api.nodes(NODE).qemu(160).migrate.get()
    assert answer["running"] == 1
    assert answer["allowed_nodes"] == ["pve2", "pve3"]
    disks = {disk["volid"]: disk for disk in answer["local_disks"]}
    assert disks["local-lvm:vm-160-disk-0"]["cdrom"] == 0
    assert disks["local-lvm:vm-160-disk-0"]["size"] == 3584 * 1024**2
    assert disks["local-lvm:vm-160-cloudinit"]["cdrom"] == 1
    assert answer["local_resources"] == []


def test_migrate_precondition_names_storages_missing_on_a_node(pve: PveSimulator, api: Any) -> None:
    """``check_local_storage_availability``: a storage limited to some nodes (storage.cfg
    ``nodes``) makes the others not allowed, naming it."""
    pve.state.add_vm(161, "pinned")
    pve.state.storages.restrict("local-lvm", ["pve", "pve2"])
    answer = api.nodes(NODE).qemu(161).migrate.get()
    assert answer["allowed_nodes"] == ["pve2"]
    assert answer["not_allowed_nodes"] == {"pve3": {"unavailable_storages": ["local-lvm"]}}


def test_totem_and_join_info_follow_the_corosync_conf_pve_writes(api: Any) -> None:
    """pve-cluster ``ClusterConfig.pm`` ``totem``/``join_info`` over ``Corosync.pm``
    ``create_conf``: ``config_version`` counts the writes (creation plus two joins); the
    join info names every member with its address and the answering node as preferred."""
    totem = api.cluster.config.totem.get()
    assert totem["config_version"] == "3"
    assert totem["link_mode"] == "passive" and totem["interface"] == {"0": {"linknumber": "0"}}
    join = api.cluster.config.join.get()
    assert join["preferred_node"] == NODE
    assert sorted(n["pve_addr"] for n in join["nodelist"]) == [
        "192.168.100.11",
        "192.168.100.12",
        "192.168.100.13",
    ]
    assert len(join["config_digest"]) == 40


def test_a_single_node_has_no_join_info() -> None:
    """``join_info`` without ``corosync.conf``: 424, "node is not in a cluster"."""
    with PveSimulator(nodes=1) as single:
        with pytest.raises(ResourceException) as failed:
            single.client().cluster.config.join.get()
        assert single.client().cluster.config.nodes.get() == []
    assert failed.value.status_code == 424
    assert "node is not in a cluster" in str(failed.value)
