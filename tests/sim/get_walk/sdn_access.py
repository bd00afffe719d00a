"""The every-GET walk's expectations for one area (see ``tests/sim/get_walk/__init__.py``).

SDN and access control items (``handlers/sdn_reads.py``, ``handlers/access_reads.py``): the
simulator's cluster has no SDN objects but the ``pve`` IPAM, and a user.cfg with ``root@pam``
and its token only, so most item reads answer the handler's error for an unknown id.
"""

from __future__ import annotations

NO_VNET = (500, "sdn vnet 'soltimis' does not exist")
# pve-firewall src/PVE/API2/Firewall/Helpers.pm check_vnet_access: die without "\n".
INVALID_VNET = (
    500,
    "invalid vnet specified at /usr/share/perl5/PVE/API2/Firewall/Helpers.pm line 55.",
)
NO_SECTION = (500, "sdn 'soltimis' does not exist")
NO_FABRIC = (500, "fabric 'soltimis' does not exist in configuration")
PARAM = (400, "Parameter verification failed.")

SAMPLE_IDS: dict[str, dict[str, str]] = {
    # pve-sdn-fabric-id: the walk's default ``solti-missing`` is no valid fabric id.
    "/cluster/sdn/fabrics/fabric/{id}": {"id": "soltimis"},
}
EXPECTED_ERRORS: dict[str, tuple[int, str]] = {
    # pve-network src/PVE/API2/Network/SDN/Vnets.pm read ($check_vnet_access ->
    # Network/SDN/Vnets.pm sdn_vnets_config); Subnets.pm index/read the same way.
    "/cluster/sdn/vnets/{vnet}": NO_VNET,
    "/cluster/sdn/vnets/{vnet}/subnets": NO_VNET,
    "/cluster/sdn/vnets/{vnet}/subnets/{subnet}": NO_VNET,
    # pve-network Nodes/Vnet.pm diridx and mac-vrf: $check_vnet_access first.
    "/nodes/{node}/sdn/vnets/{vnet}": NO_VNET,
    "/nodes/{node}/sdn/vnets/{vnet}/mac-vrf": NO_VNET,
    # pve-firewall src/PVE/API2/Firewall/Vnet.pm index has no ``permissions``: root@pam only
    # (pve-access-control RPCEnvironment.pm check_api2_permissions); the walk uses a token.
    "/cluster/sdn/vnets/{vnet}/firewall": (403, "Permission check failed (user != root@pam)"),
    # pve-firewall src/PVE/API2/Firewall/Vnet.pm get_options, Rules.pm VnetRules get_rules and
    # get_rule: Helpers.pm check_vnet_access on the running config.
    "/cluster/sdn/vnets/{vnet}/firewall/rules": INVALID_VNET,
    "/cluster/sdn/vnets/{vnet}/firewall/rules/{pos}": INVALID_VNET,
    "/cluster/sdn/vnets/{vnet}/firewall/options": INVALID_VNET,
    # pve-network Zones.pm/Controllers.pm/Dns.pm read: sdn_*_config "sdn '$id' does not exist".
    "/cluster/sdn/zones/{zone}": NO_SECTION,
    "/cluster/sdn/controllers/{controller}": NO_SECTION,
    "/cluster/sdn/dns/{dns}": NO_SECTION,
    # pve-network Fabrics/Fabric.pm get_fabric, Fabrics/FabricNode.pm list_nodes_fabric and
    # get_node -> proxmox-ve-config FabricConfig::get_fabric (FabricDoesNotExist).
    "/cluster/sdn/fabrics/fabric/{id}": NO_FABRIC,
    "/cluster/sdn/fabrics/node/{fabric_id}": NO_FABRIC,
    "/cluster/sdn/fabrics/node/{fabric_id}/{node_id}": NO_FABRIC,
    # pve-network Nodes/Fabric.pm routes/neighbors/interfaces -> pve-rs fabrics.rs
    # get_fabrics_config: /etc/pve/sdn/.running-config is absent before the first apply.
    "/nodes/{node}/sdn/fabrics/{fabric}/routes": (500, "No such file or directory (os error 2)"),
    "/nodes/{node}/sdn/fabrics/{fabric}/neighbors": (
        500,
        "No such file or directory (os error 2)",
    ),
    "/nodes/{node}/sdn/fabrics/{fabric}/interfaces": (
        500,
        "No such file or directory (os error 2)",
    ),
    # pve-network Nodes/Zone.pm bridges and ip-vrf: raise_param_exc zone "zone does not exist".
    "/nodes/{node}/sdn/zones/{zone}/bridges": PARAM,
    "/nodes/{node}/sdn/zones/{zone}/ip-vrf": PARAM,
    # pve-access-control src/PVE/API2/User.pm read_token: check_token_exist.
    "/access/users/{userid}/token/{tokenid}": (
        500,
        "no such token 'solti-missing' for user 'root@pam'",
    ),
    # pve-access-control src/PVE/API2/Group.pm read_group.
    "/access/groups/{groupid}": (500, "group 'solti-missing' does not exist"),
    # pve-access-control src/PVE/API2/TFA.pm get_tfa_entry: raise(..., code => 404).
    "/access/tfa/{userid}/{id}": (404, "No such tfa entry 'solti-missing'"),
    # pve-manager PVE/API2/Pool.pm read_pool -> index: user.cfg has no pools.
    "/pools/{poolid}": (500, "pool 'solti-missing' does not exist"),
}
NOT_JSON: dict[str, str] = {}
PARAMS: dict[str, dict[str, str]] = {
    # pve-network src/PVE/API2/Network/SDN.pm dry-run: ``node`` is required (proxyto), a
    # query parameter of a /cluster path; the walk's seeded node.
    "/cluster/sdn/dry-run": {"node": "pve"},
}
