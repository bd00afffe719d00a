"""Node facts and built-in roles, as real PVE answers them (see ``handlers/node_reads.py``
for the handlers read: pve-manager ``PVE/API2/Nodes.pm`` dns, get_etc_hosts, netstat;
pve-access-control ``AccessControl.pm`` create_roles and ``API2/Role.pm``)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE


def test_the_built_in_roles_of_a_fresh_cluster(api: Any) -> None:
    roles = {r["roleid"]: set(r["privs"].split(",")) - {""} for r in api.access.roles.get()}
    assert {"Administrator", "NoAccess", "PVEAdmin", "PVEAuditor", "PVEVMAdmin", "PVEVMUser",
            "PVEDatastoreUser", "PVETemplateUser", "PVEMappingAdmin"} <= set(roles)  # fmt: skip
    assert roles["NoAccess"] == set()
    assert roles["PVETemplateUser"] == {"VM.Clone", "VM.Audit"}
    assert {"VM.Snapshot", "VM.Snapshot.Rollback", "VM.PowerMgmt"} <= roles["PVEVMAdmin"]
    assert "VM.Snapshot" not in roles["PVEVMUser"] and "VM.PowerMgmt" in roles["PVEVMUser"]
    assert "Mapping.Modify" not in roles["PVEAdmin"]  # only Administrator and PVEMappingAdmin
    assert {"Mapping.Modify", "Permissions.Modify", "Sys.Modify"} <= roles["Administrator"]
    assert "PVESysUser" not in roles  # Sys has no user privileges, so no user role
    assert all(r["special"] == 1 for r in api.access.roles.get())
    one = api.access.roles("PVEAuditor").get()
    assert one == dict.fromkeys(sorted(roles["PVEAuditor"]), 1)
    with pytest.raises(ResourceException) as missing:
        api.access.roles("NoSuchRole").get()
    assert "role 'NoSuchRole' does not exist" in str(missing.value)


def test_dns_and_hosts_of_a_node(pve: PveSimulator, api: Any) -> None:
    assert api.nodes(NODE).dns.get() == {"search": "solti-sim.lan", "dns1": "192.168.100.1"}
    hosts = api.nodes(NODE).hosts.get()
    assert hosts["digest"] == hashlib.sha1(hosts["data"].encode()).hexdigest()
    assert f"{pve.state.nodes.address(NODE)} {NODE}.solti-sim.lan {NODE}" in hosts["data"]
    assert hosts["data"].startswith("127.0.0.1 localhost.localdomain localhost\n")


def test_netstat_lists_the_network_devices_of_running_vms_only(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(120, "up", running=True)
    pve.state.add_vm(121, "down", running=False)
    rows = api.nodes(NODE).netstat.get()
    assert {r["vmid"] for r in rows} == {"120"}  # strings, as read_proc_net_dev captures them
    assert all(r["dev"].startswith("net") and r["in"] == "0" for r in rows)
