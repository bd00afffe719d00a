"""RRD statistics (``rrddata``) of nodes, VMs and storages, from the simulator's figures.

- pve-manager ``PVE/API2/Nodes.pm`` ``rrddata``, qemu-server ``PVE/API2/Qemu.pm`` ``rrddata``
  and pve-storage ``PVE/API2/Storage/Status.pm`` ``rrddata`` all answer
  ``PVE::RRD::create_rrd_data`` over ``pve-node-9.0/<node>``, ``pve-vm-9.0/<vmid>`` and
  ``pve-storage-9.0/<node>/<storage>``.
- pve-cluster ``src/PVE/RRD.pm`` ``create_rrd_data``: ``$setup`` gives per ``timeframe`` the
  step and the number of rows; the rows run from ``ctime - step * count`` (``ctime`` the
  current time rounded down to the step), one ``{time, <data source>: value}`` per step.
- pve-cluster ``src/pmxcfs/status.c`` ``rrd_def_node_pve9_0``, ``rrd_def_vm_pve9_0``,
  ``rrd_def_storage_pve9_0``: the data sources of each kind of file.

The simulator keeps no history: every row carries the figures the model has now (CPU, memory,
disk, storage use), with the counters it does not move (network, disk I/O, pressure) at 0.
A VM's ``mem`` therefore follows its power state (half its memory while running, 0 stopped).
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.inventory_routes import raise_no_storage

# create_rrd_data ``$setup``: timeframe -> (step in seconds, rows).
SETUP = {
    "hour": (60, 60),
    "day": (60, 1440),
    "week": (60 * 30, 336),
    "month": (60 * 30, 1440),
    "year": (3600 * 6, 1440),
    "decade": (86400 * 7, 570),
}
PRESSURE_NODE = ("pressurecpusome", "pressureiosome", "pressureiofull")
PRESSURE_MEM = ("pressurememorysome", "pressurememoryfull")
PRESSURE_VM = ("pressurecpusome", "pressurecpufull", "pressureiosome", "pressureiofull")


def rows(now: float, timeframe: str, figures: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per step of ``timeframe`` ending before ``now``, each with ``figures``."""
    step, count = SETUP[timeframe]
    ctime = step * int(now // step)
    start = ctime - step * count
    return [{"time": start + i * step, **figures} for i in range(count)]


def node_rrddata(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        stats = cluster.nodes.stats(
            call.node, cluster.now, cluster.node_memory_used().get(call.node, 0)
        )
        now = cluster.now
    figures = {
        "loadavg": 0.08,
        "maxcpu": stats["maxcpu"],
        "cpu": stats["cpu"],
        "iowait": 0,
        "memtotal": stats["maxmem"],
        "memused": stats["mem"],
        "memavailable": stats["maxmem"] - stats["mem"],
        "swaptotal": 0,
        "swapused": 0,
        "roottotal": stats["maxdisk"],
        "rootused": stats["disk"],
        "netin": 0,
        "netout": 0,
        "arcsize": 0,
        **dict.fromkeys(PRESSURE_NODE + PRESSURE_MEM, 0),
    }
    return rows(now, call.params["timeframe"], figures)


def vm_rrddata(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        guest = cluster.guests.on(call.node, call.vmid)
        summary = cluster.guests.summary(guest)
        now = cluster.now
    figures = {
        "maxcpu": summary["cpus"],
        "cpu": summary["cpu"],
        "maxmem": summary["maxmem"],
        "mem": summary["mem"],
        "memhost": summary["maxmem"] if guest.running else 0,
        "maxdisk": summary["maxdisk"],
        "disk": summary["disk"],
        "netin": 0,
        "netout": 0,
        "diskread": 0,
        "diskwrite": 0,
        **dict.fromkeys(PRESSURE_VM + PRESSURE_MEM, 0),
    }
    return rows(now, call.params["timeframe"], figures)


def storage_rrddata(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        found = cluster.storages.status(call.node, {"storage": call.params["storage"]})
        now = cluster.now
    if not found:
        raise_no_storage()
    return rows(
        now, call.params["timeframe"], {"total": found[0]["total"], "used": found[0]["used"]}
    )


RRD_READS: dict[str, Handler] = {
    "/nodes/{node}/rrddata": node_rrddata,
    "/nodes/{node}/qemu/{vmid}/rrddata": vm_rrddata,
    "/nodes/{node}/storage/{storage}/rrddata": storage_rrddata,
}
