"""SDN item reads on a cluster whose SDN was never configured nor applied.

The simulator writes no ``sdn/*.cfg`` and no ``sdn/.running-config``: there are no zones,
vnets, subnets, controllers, DNS plugins or fabrics; the only object is the internal ``pve``
IPAM that ``PVE::Network::SDN::Ipams::config`` always adds. So an item read answers the error
its handler dies with for an unknown id, and the fixed answers where the handler has one.
Each method's ``permissions`` are checked before its handler, as for every GET
(``api_permissions``). Read from pve-network ``src/PVE/API2/Network/SDN/``:

- ``Vnets.pm`` ``read`` and ``Subnets.pm`` ``index``/``read`` (``$check_vnet_access`` →
  ``Network/SDN/Vnets.pm`` ``sdn_vnets_config``): ``sdn vnet 'X' does not exist``.
- ``Zones.pm``/``Controllers.pm``/``Dns.pm``/``Ipams.pm`` ``read`` (``sdn_*_config``):
  ``sdn 'X' does not exist``; ``ipams/pve`` is ``{type, ipam, digest}`` of the absent file.
  ``Ipams.pm`` ``ipamindex`` (``{ipam}/status``): ``pve`` lists the entries of the empty
  IPAM database (``Ipams/PVEPlugin.pm`` ``parse_config``: ``{}``); any other id dies without
  a newline, so Perl adds where (line 319 of the installed module).
- ``Fabrics/Fabric.pm`` ``get_fabric``, ``Fabrics/FabricNode.pm`` ``list_nodes_fabric`` and
  ``get_node`` → proxmox-perl-rs ``pve-rs/src/bindings/sdn/fabrics.rs`` → proxmox-ve-rs
  ``proxmox-ve-config/src/sdn/fabric/mod.rs`` ``FabricConfig::get_fabric``
  (``FabricDoesNotExist``); perlmod dies with ``"{err:#}\\n"``.
- ``Nodes/Fabric.pm``: ``diridx`` is a fixed list (``neighbors``, ``routes``); ``routes``,
  ``neighbors``, ``interfaces`` call ``PVE::RS::SDN::Fabrics``, whose ``get_fabrics_config``
  reads ``/etc/pve/sdn/.running-config`` directly: absent until the first apply, so the
  io error (libpve-rs-perl 0.11.2+, "handle missing running-config").
- ``Nodes/Zone.pm``: ``diridx`` is a fixed list; ``content`` lists the vnets of the zone in
  ``Zones::status`` (nothing without a running config); ``bridges`` of the ``localnetwork``
  pseudo-zone lists the node's Linux bridges with their ``ip link`` members (the model's
  bridges and running VMs' NICs); ``bridges`` of any other zone and ``ip-vrf`` raise a
  parameter error for a zone missing from the running config.
- ``Nodes/Vnet.pm`` ``diridx``/``mac-vrf``: ``$check_vnet_access`` first, as ``Vnets.pm``.
- pve-firewall ``src/PVE/API2/Firewall/Vnet.pm``: ``index`` is fixed (``rules``,
  ``options``) and, declaring no permissions, for ``root@pam`` only; ``get_options`` and
  ``Rules.pm`` ``VnetRules`` go through ``API2/Firewall/Helpers.pm`` ``check_vnet_access``,
  whose ``die "invalid vnet specified"`` (no newline) gets Perl's "at FILE line 55." for a
  vnet not in the running config.
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.api_errors import PveError, param_error
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.api_permissions import token_call
from solti.sandbox.pve.handlers.unconfigured import EMPTY_DIGEST
from solti.sandbox.pve.state import Cluster
from solti.sandbox.pve.state.drives import split_property_string

PERL5 = "/usr/share/perl5/PVE/API2"
INVALID_VNET = f"invalid vnet specified at {PERL5}/Firewall/Helpers.pm line 55.\n"
ONLY_PVE_IPAM = f"Currently only PVE IPAM is supported! at {PERL5}/Network/SDN/Ipams.pm line 319.\n"
NO_RUNNING_CONFIG = "No such file or directory (os error 2)\n"
DEFAULT_IPAM = "pve"
# pve-network Nodes/Zone.pm bridges: the pseudo-zone of the node's own Linux bridges.
LOCALNETWORK = "localnetwork"


def _no_vnet(call: Call) -> PveError:
    return PveError(500, f"sdn vnet '{call.params['vnet']}' does not exist\n")


def _require_node(call: Call) -> None:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)


# --- /cluster/sdn/vnets/{vnet}/... ----------------------------------------------------------


def vnet_missing(call: Call) -> Any:
    """``Vnets.pm`` ``read``, ``Subnets.pm`` ``index``/``read``, ``Nodes/Vnet.pm``: the vnet
    is looked up first."""
    if "node" in call.params:
        _require_node(call)
    raise _no_vnet(call)


def vnet_firewall_index(call: Call) -> list[dict[str, str]]:
    """``Vnet.pm`` ``index`` declares no ``permissions``, so only ``root@pam`` gets here: the
    refusal of tokens is ``reads.read_handler``'s, for every such method."""
    return [{"name": "rules"}, {"name": "options"}]


def vnet_firewall_missing(call: Call) -> Any:
    raise PveError(500, INVALID_VNET)


# --- /cluster/sdn/{zones,controllers,dns,ipams}/{id} ----------------------------------------


def _section_read(kind: str) -> Handler:
    """``read`` of a section-config plugin (its ``check`` is ``SDN.Allocate`` on
    ``/sdn/<kind>/<id>``)."""
    key = {"zones": "zone", "controllers": "controller", "dns": "dns", "ipams": "ipam"}[kind]

    def read(call: Call) -> dict[str, Any]:
        ident = call.params[key]
        if kind == "ipams" and ident == DEFAULT_IPAM:
            return {"type": DEFAULT_IPAM, "ipam": DEFAULT_IPAM, "digest": EMPTY_DIGEST}
        raise PveError(500, f"sdn '{ident}' does not exist\n")

    return read


def ipam_status(call: Call) -> list[Any]:
    if call.params["ipam"] != DEFAULT_IPAM:
        raise PveError(500, ONLY_PVE_IPAM)
    return []


# --- Fabrics --------------------------------------------------------------------------------


def _no_fabric(fabric: str) -> PveError:
    return PveError(500, f"fabric '{fabric}' does not exist in configuration\n")


def fabric_read(call: Call) -> Any:
    raise _no_fabric(call.params["id"])


def fabric_nodes(call: Call) -> Any:
    raise _no_fabric(call.params["fabric_id"])


def fabric_node(call: Call) -> Any:
    raise _no_fabric(call.params["fabric_id"])


def node_fabric_index(call: Call) -> list[dict[str, str]]:
    _require_node(call)
    return [{"subdir": "neighbors"}, {"subdir": "routes"}]


def node_fabric_status(call: Call) -> Any:
    """``routes``/``neighbors``/``interfaces``: no running config to read yet."""
    _require_node(call)
    raise PveError(500, NO_RUNNING_CONFIG)


# --- /nodes/{node}/sdn/zones/{zone}/... and vnets/{vnet}/... ---------------------------------


def node_zone_index(call: Call) -> list[dict[str, str]]:
    _require_node(call)
    return [{"subdir": "content"}, {"subdir": "bridges"}, {"subdir": "ip-vrf"}]


def node_zone_content(call: Call) -> list[Any]:
    _require_node(call)
    return []


def _bridge_ports(cluster: Cluster, node: str, row: dict[str, Any]) -> list[dict[str, str]]:
    """The members ``ip link`` shows for a bridge: its configured ports, then one port per
    NIC of a running VM on that bridge (pve-common ``PVE/Network.pm`` ``tap_plug``: the
    ``tap<VMID>i<N>`` device itself, or with ``firewall=1`` the ``fwpr<VMID>p<N>`` veth of
    the firewall bridge). A NIC with a ``tag`` on a bridge that is not VLAN-aware is plugged
    into ``<bridge>v<TAG>`` instead, which is no bridge of /etc/network/interfaces."""
    ports = [{"name": name} for name in str(row.get("bridge_ports") or "").split() if name]
    for vmid in sorted(cluster.guests):
        guest = cluster.guests[vmid]
        if guest.node != node or not guest.running:
            continue
        for key in sorted(guest.conf, key=lambda k: (len(k), k)):
            if not (key.startswith("net") and key[3:].isdigit()):
                continue
            net = split_property_string(guest.conf[key], None)
            if net.get("bridge") != row["iface"] or net.get("tag"):
                continue
            index = key[3:]
            name = f"fwpr{vmid}p{index}" if net.get("firewall") == "1" else f"tap{vmid}i{index}"
            # The regex captures are Perl strings, so ``vmid`` is a JSON string.
            ports.append({"name": name, "vmid": str(vmid), "index": key})
    return ports


def localnetwork_bridges(call: Call) -> list[dict[str, Any]]:
    """``bridges`` of the ``localnetwork`` zone: every Linux bridge of the node's
    /etc/network/interfaces the caller may audit (``SDN.Audit``/``SDN.Allocate`` on
    ``/sdn/zones/localnetwork/<bridge>``). The simulated bridges are not VLAN-aware
    (``vlan_filtering`` 0, so no VLAN lists on the ports)."""
    with call.cluster() as cluster:
        rows = []
        for row in cluster.network.interfaces(call.node, "bridge"):
            path = f"/sdn/zones/localnetwork/{row['iface']}"
            if token_call(call.identity) and not (
                cluster.access.has(path, "SDN.Audit") or cluster.access.has(path, "SDN.Allocate")
            ):
                continue
            ports = _bridge_ports(cluster, call.node, row)
            rows.append({"name": row["iface"], "vlan_filtering": 0, "ports": ports})
        return rows


def node_zone_bridges(call: Call) -> Any:
    _require_node(call)
    if call.params["zone"] == LOCALNETWORK:
        return localnetwork_bridges(call)
    raise param_error({"zone": "zone does not exist"})


def node_zone_missing(call: Call) -> Any:
    """``bridges`` (a zone other than ``localnetwork``) and ``ip-vrf``."""
    _require_node(call)
    raise param_error({"zone": "zone does not exist"})


SDN_READS: dict[str, Handler] = {
    "/cluster/sdn/vnets/{vnet}": vnet_missing,
    "/cluster/sdn/vnets/{vnet}/subnets": vnet_missing,
    "/cluster/sdn/vnets/{vnet}/subnets/{subnet}": vnet_missing,
    "/cluster/sdn/vnets/{vnet}/firewall": vnet_firewall_index,
    "/cluster/sdn/vnets/{vnet}/firewall/rules": vnet_firewall_missing,
    "/cluster/sdn/vnets/{vnet}/firewall/rules/{pos}": vnet_firewall_missing,
    "/cluster/sdn/vnets/{vnet}/firewall/options": vnet_firewall_missing,
    "/cluster/sdn/zones/{zone}": _section_read("zones"),
    "/cluster/sdn/controllers/{controller}": _section_read("controllers"),
    "/cluster/sdn/dns/{dns}": _section_read("dns"),
    "/cluster/sdn/ipams/{ipam}": _section_read("ipams"),
    "/cluster/sdn/ipams/{ipam}/status": ipam_status,
    "/cluster/sdn/fabrics/fabric/{id}": fabric_read,
    "/cluster/sdn/fabrics/node/{fabric_id}": fabric_nodes,
    "/cluster/sdn/fabrics/node/{fabric_id}/{node_id}": fabric_node,
    "/nodes/{node}/sdn/fabrics/{fabric}": node_fabric_index,
    "/nodes/{node}/sdn/fabrics/{fabric}/routes": node_fabric_status,
    "/nodes/{node}/sdn/fabrics/{fabric}/neighbors": node_fabric_status,
    "/nodes/{node}/sdn/fabrics/{fabric}/interfaces": node_fabric_status,
    "/nodes/{node}/sdn/zones/{zone}": node_zone_index,
    "/nodes/{node}/sdn/zones/{zone}/content": node_zone_content,
    "/nodes/{node}/sdn/zones/{zone}/bridges": node_zone_bridges,
    "/nodes/{node}/sdn/zones/{zone}/ip-vrf": node_zone_missing,
    "/nodes/{node}/sdn/vnets/{vnet}": vnet_missing,
    "/nodes/{node}/sdn/vnets/{vnet}/mac-vrf": vnet_missing,
}
