"""Access-control and SDN item reads answer from the simulator's user.cfg and token ACL, as the
PVE handlers named in each test do (issue 11, ``handlers/access_reads.py``, ``sdn_reads.py``).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import requests
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from solti.sandbox.pve.handlers.node_reads import builtin_roles
from tests.sim.conftest import NODE, root_login

SHA1_OF_NOTHING = hashlib.sha1(b"").hexdigest()


def refusal(call: Any) -> tuple[int, str]:
    with pytest.raises(ResourceException) as caught:
        call()
    return caught.value.status_code, caught.value.content


def test_root_user_carries_the_simulators_token(pve: PveSimulator, api: Any) -> None:
    """pve-access-control API2/User.pm read_user ($extract_user_data, full), token_index,
    read_token: the token the simulator authenticates with, privilege-separated."""
    token = pve.token_id.split("!")[1]
    root = api.access.users("root@pam").get()
    assert root == {
        "enable": 1,
        "expire": 0,
        "groups": [],
        "tokens": {token: {"expire": 0, "privsep": 1}},
    }
    assert api.access.users("root@pam").token.get() == [
        {"tokenid": token, "expire": 0, "privsep": 1}
    ]
    assert api.access.users("root@pam").token(token).get() == {"expire": 0, "privsep": 1}
    assert api.access.users("root@pam").tfa.get() == {}
    assert api.access.tfa("root@pam").get() == []


def test_unknown_users_fail_as_each_permission_test_does(pve: PveSimulator, api: Any) -> None:
    """RPCEnvironment.pm exec_api2_perm_check: ``userid-group`` alone dies in
    check_user_exist (500); inside ``or`` it runs with noerr, so the bare 403."""
    assert refusal(api.access.users("nobody@pve").get) == (500, "no such user ('nobody@pve')")
    assert refusal(api.access.users("nobody@pve").token.get) == (403, "Permission check failed")
    assert refusal(api.access.tfa("nobody@pve").get) == (403, "Permission check failed")


def test_token_reads_need_user_modify_on_access_groups(pve: PveSimulator, api: Any) -> None:
    """User.pm token_index: ['or', ['userid-param', 'self'], ['userid-group', ['User.Modify']]];
    a token is never its user, so without User.Modify the answer is 403."""
    pve.state.access.revoke_token_privileges("/", "User.Modify")
    assert refusal(api.access.users("root@pam").token.get) == (403, "Permission check failed")
    assert api.access.users("root@pam").get()["enable"] == 1  # Sys.Audit still reads the user


def test_acl_shows_the_tokens_privileges_as_roles(pve: PveSimulator, api: Any) -> None:
    """ACL.pm read_acl over the token's ACL: everything on / is Administrator; a set equal to a
    built-in role is that role, per propagate flag; an empty set NoAccess."""
    token = pve.token_id
    assert api.access.acl.get() == [
        {"path": "/", "type": "token", "ugid": token, "roleid": "Administrator", "propagate": 1}
    ]
    auditor = dict.fromkeys(builtin_roles()["PVEAuditor"], 1)
    pve.state.access.set_token_privileges("/vms/100", {})
    pve.state.access.set_token_privileges("/storage", {**auditor, "Datastore.Allocate": 0})
    rows = api.access.acl.get()
    assert [(r["path"], r["roleid"], r["propagate"]) for r in rows] == [
        ("/", "Administrator", 1),
        ("/storage", "PVEAuditor", 1),
        ("/storage", rows[2]["roleid"], 0),
        ("/vms/100", "NoAccess", 1),
    ]
    assert rows[2]["roleid"].startswith("SoltiSim")


def test_acl_hides_paths_the_token_may_neither_audit_nor_modify(
    pve: PveSimulator, api: Any
) -> None:
    """ACL.pm read_acl: Sys.Audit on /access shows all; else check_perm_modify per path
    (Permissions.Modify, or Datastore.Allocate below /storage/)."""
    pve.state.access.replace_acl(
        {"/": ["VM.Audit"], "/storage/local": ["Datastore.Allocate"], "/access": ["User.Modify"]}
    )
    assert [row["path"] for row in api.access.acl.get()] == ["/storage/local"]


def test_realm_pam_is_the_builtin_one(pve: PveSimulator, api: Any) -> None:
    """Domains.pm read over Auth/Plugin.pm parse_config's default domains."""
    assert api.access.domains("pam").get() == {
        "type": "pam",
        "plugin": "PVE::Auth::PAM",
        "comment": "Linux PAM standard authentication",
        "digest": SHA1_OF_NOTHING,
    }
    assert refusal(api.access.domains("corp").get) == (500, "domain 'corp' does not exist")
    pve.state.access.revoke_token_privileges("/", "Realm.Allocate", "Sys.Audit")
    assert refusal(api.access.domains("pam").get) == (
        403,
        "Permission check failed (/access/realm, Realm.Allocate|Sys.Audit)",
    )


def test_ticket_get_is_the_unauthenticated_dummy(pve: PveSimulator) -> None:
    """AccessControl.pm get_ticket (user => 'world'; HTTPServer.pm auth_handler skips auth)."""
    response = requests.get(f"{pve.url}/api2/json/access/ticket", verify=pve.ca_path, timeout=5)
    assert (response.status_code, response.json()) == (200, {"data": None})


def test_realm_list_needs_no_login(pve: PveSimulator) -> None:
    """AccessControl.pm/Domains.pm index says ``user => 'world'`` (the login form lists the
    realms before anyone is logged in); other reads still want credentials (401)."""
    response = requests.get(f"{pve.url}/api2/json/access/domains", verify=pve.ca_path, timeout=5)
    assert response.status_code == 200
    assert "pam" in [row["realm"] for row in response.json()["data"]]
    refused = requests.get(f"{pve.url}/api2/json/access/users", verify=pve.ca_path, timeout=5)
    assert refused.status_code == 401


def test_pool_reads_check_pool_audit_before_the_pool(pve: PveSimulator, api: Any) -> None:
    """Pool.pm read_pool: ['perm', '/pool/{poolid}', ['Pool.Audit']], then index's die."""
    assert refusal(api.pools("web").get) == (500, "pool 'web' does not exist")
    pve.state.access.revoke_token_privileges("/", "Pool.Audit")
    assert refusal(api.pools("web").get) == (403, "Permission check failed (/pool/web, Pool.Audit)")


def test_sdn_items_of_a_never_configured_cluster(pve: PveSimulator, api: Any) -> None:
    """pve-network Ipams.pm read/ipamindex (the built-in pve IPAM, an empty database),
    Zones.pm read, Nodes/Zone.pm diridx/content."""
    assert api.cluster.sdn.ipams("pve").get() == {
        "type": "pve",
        "ipam": "pve",
        "digest": SHA1_OF_NOTHING,
    }
    assert api.cluster.sdn.ipams("pve").status.get() == []
    assert refusal(api.cluster.sdn.zones("zone1").get) == (500, "sdn 'zone1' does not exist")
    zone = api.nodes(NODE).sdn.zones("zone1")
    assert [row["subdir"] for row in zone.get()] == ["content", "bridges", "ip-vrf"]
    assert zone.content.get() == []


def test_sdn_reads_check_the_methods_permissions(pve: PveSimulator, api: Any) -> None:
    """Zones.pm read: ['perm', '/sdn/zones/{zone}', ['SDN.Allocate']]; Nodes/Zone.pm diridx:
    SDN.Audit on the zone; FabricNode.pm get_node: any of Sys.Audit/Sys.Modify on the node."""
    pve.state.access.revoke_token_privileges("/", "SDN.Allocate", "Sys.Audit", "Sys.Modify")
    assert refusal(api.cluster.sdn.zones("zone1").get) == (
        403,
        "Permission check failed (/sdn/zones/zone1, SDN.Allocate)",
    )
    assert refusal(api.cluster.sdn.fabrics.node("fab1")(NODE).get) == (
        403,
        f"Permission check failed (/nodes/{NODE}, Sys.Audit|Sys.Modify)",
    )
    pve.state.access.revoke_token_privileges("/", "SDN.Audit")
    assert refusal(api.nodes(NODE).sdn.zones("zone1").get) == (
        403,
        "Permission check failed (/sdn/zones/zone1, SDN.Audit)",
    )


def test_root_ticket_skips_the_permission_tests(pve: PveSimulator, api: Any) -> None:
    """RPCEnvironment.pm check_api2_permissions admits root@pam (a ticket) before any test:
    pve-firewall API2/Firewall/Vnet.pm index, which declares no permissions, is root's alone,
    and unknown users meet the handlers' own lookups instead of the permission tests."""
    assert refusal(api.cluster.sdn.vnets("vnet1").firewall.get) == (
        403,
        "Permission check failed (user != root@pam)",
    )
    root = root_login(pve)
    assert root.cluster.sdn.vnets("vnet1").firewall.get() == [
        {"name": "rules"},
        {"name": "options"},
    ]
    assert len(root.access.acl.get()) == 1  # root sees every entry without any ACL of its own
    # No permission test for root@pam: the handlers' own lookups answer.
    assert refusal(root.access.users("nobody@pve").token.get) == (
        500,
        "no such user ('nobody@pve')",
    )
    assert root.access.tfa("nobody@pve").get() == []
    assert refusal(root.access.users("nobody@corp").tfa.get) == (
        500,
        "auth domain 'corp' does not exist",
    )


def test_localnetwork_bridges_list_the_running_vms_ports(pve: PveSimulator, api: Any) -> None:
    """pve-network Nodes/Zone.pm bridges for ``localnetwork``: each Linux bridge of the node
    with its ``ip link`` members: the uplink, ``tap<VMID>i<N>`` of a running VM's NIC, or
    ``fwpr<VMID>p<N>`` with ``firewall=1``; the vmid is the regex capture (a string)."""
    mac = "BC:24:11:00:00:01"
    pve.state.add_vm(100, "web", running=True)
    pve.state.add_vm(101, "db", running=True, net1=f"virtio={mac},bridge=vmbr0,firewall=1")
    pve.state.add_vm(102, "tagged", running=True, net0=f"virtio={mac},bridge=vmbr0,tag=10")
    pve.state.add_vm(103, "off")
    (bridge,) = api.nodes(NODE).sdn.zones("localnetwork").bridges.get()
    assert bridge == {
        "name": "vmbr0",
        "vlan_filtering": 0,
        "ports": [
            {"name": "eno1"},
            {"name": "tap100i0", "vmid": "100", "index": "net0"},
            {"name": "tap101i0", "vmid": "101", "index": "net0"},
            {"name": "fwpr101p1", "vmid": "101", "index": "net1"},
        ],
    }
    pve.state.access.set_token_privileges("/sdn/zones/localnetwork/vmbr0", {"SDN.Use": 1})
    assert api.nodes(NODE).sdn.zones("localnetwork").bridges.get() == []
    assert refusal(api.nodes(NODE).sdn.zones("zone1").bridges.get) == (
        400,
        "Parameter verification failed.",
    )
