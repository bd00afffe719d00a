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
  ``create_rrd_graph``: ``{filename, image}``, the file name built from the RRD path and the
  data sources, the image an 800x200 PNG (``--full-size-mode``). The simulator keeps no RRD
  history to draw, so the image is the empty canvas. A data source the node's RRD file does
  not have fails as ``RRDs::graphv`` reports it ("RRD error: No DS called ...").
- ``vncwebsocket``: ``PVE::AccessControl::verify_vnc_ticket`` → pve-common
  ``PVE/Ticket.pm`` ``verify_rsa_ticket`` raises "permission denied - invalid PVEVNC ticket"
  (401) unless the ticket was signed by the cluster for this user and node; the simulator
  issues no VNC tickets (``vncshell`` is not modelled), so every ticket is invalid.
- ``aplinfo``: ``PVE::APLInfo::load_data`` reads the appliance index ``pveam update``
  downloads from download.proxmox.com; a simulated node reaches no outside server, so there
  is none and the list is empty.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache
from typing import Any, NoReturn

from solti.sandbox.pve.api_errors import PveError, param_error
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.read_guard import guarded, node
from solti.sandbox.pve.handlers.rrd_reads import PRESSURE_MEM, PRESSURE_NODE

RRD_DIR = "/var/lib/rrdcached/db"
# pve-cluster src/pmxcfs/status.c rrd_def_node_pve9_0: the data sources of a node's RRD.
NODE_SOURCES = {
    "loadavg", "maxcpu", "cpu", "iowait", "memtotal", "memused", "swaptotal", "swapused",
    "roottotal", "rootused", "netin", "netout", "memavailable", "arcsize",
    *PRESSURE_NODE, *PRESSURE_MEM,
}  # fmt: skip
GRAPH_SIZE = (800, 200)


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


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


@cache
def blank_png(width: int, height: int) -> bytes:
    """A white RGB PNG of the graph's size (no data drawn)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff" * (3 * width) for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows, 9))
        + _png_chunk(b"IEND", b"")
    )


def rrd_graph(call: Call) -> dict[str, str]:
    _require_node(call)
    sources = [s for s in call.params["ds"].replace(";", ",").split(",") if s.strip()]
    rrd = f"{RRD_DIR}/pve-node-9.0/{call.node}"
    for source in sources:
        if source.strip() not in NODE_SOURCES:
            # RRDs::graphv's error for a DEF naming a source the file does not have.
            raise PveError(500, f"RRD error: No DS called '{source.strip()}' in '{rrd}'\n")
    filename = f"{rrd}_{'_'.join(s.strip() for s in sources)}.png"
    # Perl's JSON encoder sends the PNG's bytes as the characters of the same code points.
    return {"filename": filename, "image": blank_png(*GRAPH_SIZE).decode("latin-1")}


def vnc_websocket(call: Call) -> NoReturn:
    raise PveError(401, "permission denied - invalid PVEVNC ticket\n")


def aplinfo(call: Call) -> list[Any]:
    _require_node(call)
    return []


NODE_ITEM_READS: dict[str, Handler] = {
    "/nodes/{node}/network/{iface}": guarded(network_iface, node("Sys.Audit")),
    "/nodes/{node}/firewall/rules/{pos}": guarded(firewall_rule, node("Sys.Audit")),
    "/nodes/{node}/replication/{id}": replication_index,
    "/nodes/{node}/replication/{id}/status": replication_missing,
    "/nodes/{node}/replication/{id}/log": replication_missing,
    "/nodes/{node}/rrd": guarded(rrd_graph, node("Sys.Audit")),
    "/nodes/{node}/vncwebsocket": guarded(vnc_websocket, node("Sys.Console")),
    "/nodes/{node}/aplinfo": aplinfo,
}
