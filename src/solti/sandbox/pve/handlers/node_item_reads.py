"""Single items below a node: one interface, one firewall rule, one replication job, the RRD
graph, the VNC websocket check and the appliance list, each read as the handler named answers.

- pve-manager ``PVE/API2/Network.pm`` ``network_config``: the interface's entry of
  ``/etc/network/interfaces`` (the simulator's ``Network`` model), or ``raise_param_exc``
  ``{iface: "interface does not exist"}``.
- pve-firewall ``src/PVE/API2/Firewall/Rules.pm`` ``get_rule`` (``HostRules``): dies "no rule
  at position <pos>" past the end of the host's rule list, which is empty without a
  ``host.fw`` (``handlers/unconfigured.py``).
- pve-manager ``PVE/API2/Replication.pm``: ``index`` (``{id}``) lists ``schedule_now``,
  ``log``, ``status`` for any id; ``job_status`` and ``read_job_log`` die "no such
  replication job '<id>'" when ``replication.cfg`` has no such job (it has none here).
- pve-manager ``PVE/API2/Nodes.pm`` ``rrd`` → pve-cluster ``src/PVE/RRD.pm``
  ``create_rrd_graph`` over ``pve-node-9.0/<node>``, drawn by ``graph_reads.graph`` from the
  node's current ``rrddata`` figures (the data sources of ``rrd_def_node_pve9_0``).
- ``vncwebsocket``: ``PVE::AccessControl::verify_vnc_ticket`` → pve-common
  ``PVE/Ticket.pm`` ``verify_rsa_ticket`` raises "permission denied - invalid PVEVNC ticket"
  (401) unless the ticket was signed by the cluster for this user and node; the simulator
  issues no VNC tickets (``vncshell`` is not modelled), so every ticket is invalid
  (``console_socket_reads``). The handler has no ``proxyto``: the node is not looked up.
- ``aplinfo``: ``PVE::APLInfo::load_data`` reads the appliance index ``pveam update``
  downloads from download.proxmox.com; a simulated node reaches no outside server, so there
  is none and the list is empty.
"""

from __future__ import annotations

from typing import Any, NoReturn

from solti.sandbox.pve.api_errors import PveError, param_error
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.console_socket_reads import invalid_ticket
from solti.sandbox.pve.handlers.graph_reads import graph
from solti.sandbox.pve.handlers.rrd_reads import node_rrddata


def _require_node(call: Call) -> None:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)


def network_iface(call: Call) -> dict[str, Any]:
    iface = call.params["iface"]
    with call.cluster() as cluster:
        rows = cluster.network.interfaces(call.node)
    for row in rows:
        if row["iface"] == iface:
            return {k: v for k, v in row.items() if k != "iface"}
    raise param_error({"iface": "interface does not exist"})


def firewall_rule(call: Call) -> NoReturn:
    _require_node(call)
    raise PveError(500, f"no rule at position {call.params['pos']}\n")


def replication_index(call: Call) -> list[dict[str, str]]:
    return [{"name": "schedule_now"}, {"name": "log"}, {"name": "status"}]


def replication_missing(call: Call) -> NoReturn:
    _require_node(call)
    raise PveError(500, f"no such replication job '{call.params['id']}'\n")


def rrd_graph(call: Call) -> dict[str, str]:
    rows = node_rrddata(call)
    figures = {k: v for k, v in rows[-1].items() if k != "time"}
    return graph(f"pve-node-9.0/{call.node}", call.params["ds"], figures)


def vnc_websocket(call: Call) -> NoReturn:
    raise invalid_ticket("PVEVNC")


def aplinfo(call: Call) -> list[Any]:
    _require_node(call)
    return []


NODE_ITEM_READS: dict[str, Handler] = {
    "/nodes/{node}/network/{iface}": network_iface,
    "/nodes/{node}/firewall/rules/{pos}": firewall_rule,
    "/nodes/{node}/replication/{id}": replication_index,
    "/nodes/{node}/replication/{id}/status": replication_missing,
    "/nodes/{node}/replication/{id}/log": replication_missing,
    "/nodes/{node}/rrd": rrd_graph,
    "/nodes/{node}/vncwebsocket": vnc_websocket,
    "/nodes/{node}/aplinfo": aplinfo,
}
